import { patients } from './data.js';

/**
 * A Storybook control choosing one of the fixture patients, or none, by name:
 * the stories drive the elements with the same patients as the tests.
 */
export const patientControl = {
  control: {
    type: 'select' as const,
    labels: { '': '(none)', ...Object.fromEntries(patients.map((p) => [p.id, `${p.name} (${p.id})`])) },
  },
  options: ['', ...patients.map((p) => p.id)],
};
