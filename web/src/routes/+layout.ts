// A single-page app: every page renders in the browser and talks to the API on the same origin.
export const ssr = false;
export const prerender = false;
