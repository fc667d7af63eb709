// A page as GitHub shows it, for a look in a browser: `node preview.mjs PAGE.md > PAGE.html`.
// Markdown by markdown-it (tables, images), math by KaTeX, with GitHub's rules: a ```math fence is
// display math, $`...`$ is inline math, and in a table cell `\|` is a pipe before the math is read.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import katex from "katex";
import MarkdownIt from "markdown-it";

const here = path.dirname(fileURLToPath(import.meta.url));
const md = new MarkdownIt({ html: true });
const typeset = (tex, displayMode) => katex.renderToString(tex, { displayMode, throwOnError: false });

const fence = md.renderer.rules.fence;
md.renderer.rules.fence = (tokens, i, options, env, self) =>
  tokens[i].info.trim() === "math" ? typeset(tokens[i].content, true) : fence(tokens, i, options, env, self);

md.core.ruler.push("github_inline_math", (state) => {
  let inCell = false;
  for (const block of state.tokens) {
    if (block.type === "td_open" || block.type === "th_open") inCell = true;
    if (block.type === "td_close" || block.type === "th_close") inCell = false;
    if (block.type !== "inline") continue;
    const kids = block.children;
    for (let k = 1; k + 1 < kids.length; k++) {
      const [before, code, after] = [kids[k - 1], kids[k], kids[k + 1]];
      if (code.type === "code_inline" && before.type === "text" && before.content.endsWith("$") &&
          after.type === "text" && after.content.startsWith("$")) {
        before.content = before.content.slice(0, -1);
        after.content = after.content.slice(1);
        code.type = "math_inline";
        code.content = inCell ? code.content.replaceAll("\\|", "|") : code.content;
      }
    }
  }
});
md.renderer.rules.math_inline = (tokens, i) => typeset(tokens[i].content, false);

const page = process.argv[2];
const css = path.join(here, "node_modules", "katex", "dist", "katex.min.css");
process.stdout.write(`<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="file://${css}">
<style>body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:1012px;margin:24px auto;
font-size:15px;line-height:1.5;color:#1f2328}table{border-collapse:collapse;display:block;overflow:auto}
td,th{border:1px solid #d0d7de;padding:6px 13px}code{background:#eff1f3;padding:.2em .4em;border-radius:6px}
.katex-display{overflow-x:auto;overflow-y:hidden}h1,h2{border-bottom:1px solid #d8dee4}</style>
<base href="file://${path.resolve(path.dirname(page))}/"></head><body>
${md.render(fs.readFileSync(page, "utf8"))}</body></html>\n`);
