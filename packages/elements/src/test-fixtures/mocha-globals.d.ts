// Browser tests run under mocha (web-test-runner); its globals are typed here
// so both this package's and the root tsconfig check the test files.
/// <reference types="mocha" />
