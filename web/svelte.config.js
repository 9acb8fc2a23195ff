import adapter from '@sveltejs/adapter-static';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  kit: {
    // A pure SPA: nothing is prerendered, and the Worker's asset binding answers every path that is
    // not a file with index.html (wrangler.toml: not_found_handling = "single-page-application").
    adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html' }),
  },
};

export default config;
