// Typesets formulas with KaTeX for tests/test_typeset.py, in one long-lived process.
// Each input line is a JSON array of {"tex": ..., "display": bool}; for each line, one output line:
// a JSON array of {"index": i, "error": message} for every formula KaTeX refuses. Strict mode:
// what KaTeX would only warn about (input that is not LaTeX) is an error too.
import katex from "katex";
import readline from "node:readline";

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  const failures = [];
  JSON.parse(line).forEach(({ tex, display }, index) => {
    try {
      katex.renderToString(tex, { displayMode: display, throwOnError: true, strict: "error" });
    } catch (error) {
      failures.push({ index, error: String(error.message || error) });
    }
  });
  process.stdout.write(JSON.stringify(failures) + "\n");
}
