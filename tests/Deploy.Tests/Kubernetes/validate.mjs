// Validates every document of a rendered multi-document YAML file (argument 1) against the
// OpenAPI schema of its apiVersion and kind: Kubernetes' own (kubernetes-models, generated
// from the Kubernetes OpenAPI spec) and KEDA's CRDs (@kubernetes-models/keda). A kind with
// no schema here is an error, not a pass. Prints one line per document; exit 1 on any error.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

const modules = {
  'keda.sh': kind => `@kubernetes-models/keda/keda.sh/v1alpha1/${kind}`,
};

function modelPath(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (modules[group]) return modules[group](kind);
  return group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
}

let failures = 0;
for (const document of parseAllDocuments(readFileSync(process.argv[2], 'utf8'))) {
  if (document.errors.length > 0) {
    console.log(`INVALID YAML: ${document.errors.map(e => e.message).join('; ')}`);
    failures++;
    continue;
  }

  const resource = document.toJS();
  if (resource === null) continue;
  const name = `${resource.kind}/${resource.metadata?.name}`;
  let Model;
  try {
    Model = (await import(modelPath(resource.apiVersion, resource.kind)))[resource.kind];
  } catch {
    Model = undefined;
  }

  if (!Model) {
    console.log(`NO SCHEMA ${resource.apiVersion} ${name}`);
    failures++;
    continue;
  }

  try {
    new Model(resource).validate();
    console.log(`valid ${resource.apiVersion} ${name}`);
  } catch (error) {
    console.log(`INVALID ${resource.apiVersion} ${name}: ${error.message}`);
    failures++;
  }
}

process.exit(failures === 0 ? 0 : 1);
