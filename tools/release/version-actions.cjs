// Nx release's versioning for this repository's npm packages, without the @nx/js plugin (and
// its Babel tree) that Nx's default implementation lives in: read and write `version` in each
// package.json, and give the packages that depend on a released one its new version.
'use strict';
const { VersionActions } = require('nx/release');

const COLLECTIONS = ['dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies'];

function readJson(tree, path) {
  return JSON.parse(tree.read(path, 'utf-8'));
}

// Edits are made in the text, so each package.json keeps its own layout (several keep
// short objects on one line) and a release diff shows only the versions.
function setVersion(text, version) {
  return text.replace(/("version"\s*:\s*)"[^"]*"/, (_m, key) => `${key}${JSON.stringify(version)}`);
}

function setRange(text, collection, name, range) {
  const block = new RegExp(`("${collection}"\\s*:\\s*\\{)([^}]*)(\\})`);
  const entry = new RegExp(`("${name.replace(/[/.]/g, '\\$&')}"\\s*:\\s*)"[^"]*"`);
  return text.replace(block, (_m, open, body, close) => `${open}${body.replace(entry, (_e, key) => `${key}${JSON.stringify(range)}`)}${close}`);
}

/** The npm package name of a project (Nx names our projects after their package.json). */
function packageName(tree, projectGraph, projectName) {
  const node = projectGraph.nodes[projectName];
  return readJson(tree, `${node.data.root}/package.json`).name;
}

class NpmVersionActions extends VersionActions {
  validManifestFilenames = ['package.json'];

  manifest() {
    return `${this.projectGraphNode.data.root}/package.json`;
  }

  async readCurrentVersionFromSourceManifest(tree) {
    const manifestPath = this.manifest();
    return { currentVersion: readJson(tree, manifestPath).version, manifestPath };
  }

  async readCurrentVersionFromRegistry() {
    // Releases resolve the current version from disk (nx.json release.version.currentVersionResolver).
    return null;
  }

  async readCurrentVersionOfDependency(tree, projectGraph, dependencyProjectName) {
    const pkg = readJson(tree, this.manifest());
    const name = packageName(tree, projectGraph, dependencyProjectName);
    for (const collection of COLLECTIONS) {
      const range = pkg[collection]?.[name];
      if (range !== undefined) return { currentVersion: range, dependencyCollection: collection };
    }
    return { currentVersion: null, dependencyCollection: null };
  }

  async updateProjectVersion(tree, newVersion) {
    const logs = [];
    for (const { manifestPath } of this.manifestsToUpdate) {
      tree.write(manifestPath, setVersion(tree.read(manifestPath, 'utf-8'), newVersion));
      logs.push(`✍️  New version ${newVersion} written to manifest: ${manifestPath}`);
    }
    return logs;
  }

  async updateProjectDependencies(tree, projectGraph, dependenciesToUpdate) {
    const logs = [];
    for (const { manifestPath } of this.manifestsToUpdate) {
      const pkg = readJson(tree, manifestPath);
      let text = tree.read(manifestPath, 'utf-8');
      let n = 0;
      for (const [project, version] of Object.entries(dependenciesToUpdate)) {
        const name = packageName(tree, projectGraph, project);
        for (const collection of COLLECTIONS) {
          if (pkg[collection]?.[name] === undefined) continue;
          // An optional peer keeps a range, so an app may pair it with any later release.
          text = setRange(text, collection, name, collection === 'peerDependencies' ? `>=${version}` : version);
          n++;
        }
      }
      if (n > 0) {
        tree.write(manifestPath, text);
        logs.push(`✍️  Updated ${n} dependenc${n === 1 ? 'y' : 'ies'} in manifest: ${manifestPath}`);
      }
    }
    return logs;
  }
}

module.exports = NpmVersionActions;
module.exports.default = NpmVersionActions;
