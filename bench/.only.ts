import { validateBench } from './validate';
validateBench.run((l) => console.log(l)).then((r) => console.log(JSON.stringify(r)));
