/**
 * Finds which operator config keys the operator's code reads: a source scan of `lib/` and `functions/` (the key
 * table and its parser in `lib/model/config/` excluded) with the TypeScript parser, so comments, log text and
 * messages that merely name a key do not count. A key counts as read where it appears as
 * - a property access on something named `config`, `config.docker_image`, `ctx.config?.docker_image` (the
 *   manifest's `spec.sidecars` is not the config key `sidecars`);
 * - an element access with a literal on the same, `config['docker_image']`;
 * - a destructured property, `const { docker_image } = config`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/** `config`, `ctx.config`, `settings.config`: what holds an `OperatorConfig` in this code base. */
const CONFIG_RECEIVER = /(^|\.)config$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * @param root the repository root
 * @param keys the key names to look for
 * @returns for each key read somewhere, the places (`path:line`) that read it
 */
export function configKeyReads(root: string, keys: readonly string[]): Map<string, string[]> {
  const wanted = new Set(keys);
  const reads = new Map<string, string[]>();
  const excluded = join(root, 'lib', 'model', 'config') + '/';
  const files = [...sourceFiles(join(root, 'lib')), ...sourceFiles(join(root, 'functions'))].filter(
    (f) => !f.startsWith(excluded),
  );
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const note = (name: string, node: ts.Node) => {
      if (!wanted.has(name)) return;
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      const places = reads.get(name) ?? [];
      places.push(`${relative(root, file)}:${line}`);
      reads.set(name, places);
    };
    const onConfig = (receiver: ts.Expression) => CONFIG_RECEIVER.test(receiver.getText(source).replace(/[?!]/g, ''));
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAccessExpression(node) && onConfig(node.expression)) note(node.name.text, node.name);
      else if (
        ts.isElementAccessExpression(node) &&
        ts.isStringLiteralLike(node.argumentExpression) &&
        onConfig(node.expression)
      )
        note(node.argumentExpression.text, node.argumentExpression);
      else if (ts.isBindingElement(node) && ts.isObjectBindingPattern(node.parent)) {
        const property = node.propertyName ?? node.name;
        if (ts.isIdentifier(property) || ts.isStringLiteralLike(property)) note(property.text, property);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return reads;
}
