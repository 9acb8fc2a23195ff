import { z } from '@hono/zod-openapi';
import { route, router } from '../api/route';

export const metaRoutes = router().openapi(
  route({ method: 'get', path: '/healthz', summary: 'Liveness', tags: ['meta'], auth: false, response: z.object({ ok: z.boolean() }) }),
  (c) => c.json({ ok: true }, 200),
);

/** A self-contained API reference page that renders /api/v1/openapi.json (no CDN, works offline). */
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>AgentRunbook API</title>
<style>
:root{color-scheme:light dark;font-family:system-ui,sans-serif}body{max-width:960px;margin:2rem auto;padding:0 1rem}
h2{border-bottom:1px solid #8884;padding-bottom:.3rem;margin-top:2rem;text-transform:capitalize}
details{border:1px solid #8884;border-radius:6px;margin:.4rem 0;padding:.4rem .6rem}summary{cursor:pointer}
.m{display:inline-block;min-width:4.5rem;font-weight:700;font-family:monospace}.get{color:#1a7f37}.post{color:#0969da}.put{color:#9a6700}.delete{color:#cf222e}
code,pre{font-family:ui-monospace,monospace;font-size:.85rem}pre{overflow:auto;background:#8881;padding:.5rem;border-radius:4px}
</style></head><body>
<h1>AgentRunbook API</h1>
<p>Base path <code>/api/v1</code>. Authenticate with <code>Authorization: Bearer ark_…</code> or the session cookie.
Errors are <code>{ "error": { "code", "message", "details"? }, "request_id" }</code>. Machine-readable: <a href="/api/v1/openapi.json">openapi.json</a>.</p>
<div id="ops">Loading…</div>
<script>
fetch('/api/v1/openapi.json').then(r=>r.json()).then(doc=>{
  const byTag={};
  for(const [path,ops] of Object.entries(doc.paths||{}))for(const [m,op] of Object.entries(ops)){
    const tag=(op.tags&&op.tags[0])||'other';(byTag[tag]=byTag[tag]||[]).push({m,path,op});}
  const el=document.getElementById('ops');el.textContent='';
  const esc=s=>String(s).replace(/[&<>]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;'}[c]));
  for(const [tag,list] of Object.entries(byTag)){
    const h=document.createElement('h2');h.textContent=tag;el.append(h);
    for(const {m,path,op} of list){
      const d=document.createElement('details');
      const body=op.requestBody?'<h4>Request</h4><pre>'+esc(JSON.stringify(op.requestBody.content,null,2))+'</pre>':'';
      const params=op.parameters?'<h4>Parameters</h4><pre>'+esc(JSON.stringify(op.parameters,null,2))+'</pre>':'';
      const ok=Object.entries(op.responses||{}).filter(([s])=>s<'300').map(([s,r])=>'<h4>'+s+'</h4><pre>'+esc(JSON.stringify(r.content||{},null,2))+'</pre>').join('');
      d.innerHTML='<summary><span class="m '+m+'">'+m.toUpperCase()+'</span> <code>/api/v1'+esc(path)+'</code> — '+esc(op.summary||'')+'</summary>'+params+body+ok;
      el.append(d);}}
  const s=document.createElement('h2');s.textContent='schemas';el.append(s);
  const pre=document.createElement('pre');pre.textContent=JSON.stringify(doc.components&&doc.components.schemas,null,2);el.append(pre);
});
</script></body></html>`;
