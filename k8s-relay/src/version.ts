/** The relay's version, sent in `hello`; a test keeps it equal to package.json's. */
export const RELAY_VERSION = '0.1.0';
