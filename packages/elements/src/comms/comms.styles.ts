import { css } from 'lit';

export const commsStyles = css`
  :host {
    display: block;
    container-type: inline-size;
  }
  :host([theme='light']) {
    color-scheme: light;
  }
  :host([theme='dark']) {
    color-scheme: dark;
  }
  :host([theme='auto']) {
    color-scheme: light dark;
  }
  .root {
    display: grid;
    gap: 1rem;
  }
  .who {
    display: flex;
    flex-wrap: wrap;
    align-items: baseline;
    gap: 0.25rem 0.625rem;
  }
  .practitioner {
    font-size: 1rem;
    font-weight: 650;
  }
  .tenant {
    opacity: 0.85;
  }
  .sandbox {
    padding: 0.0625rem 0.5rem;
    border: 1px solid currentColor;
    border-radius: 999px;
    font-size: 0.75rem;
    font-weight: 600;
  }
  .message .button {
    margin-left: auto;
  }
`;
