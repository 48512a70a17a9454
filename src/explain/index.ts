/** Pure evaluator: the verdict for one connection, and reachability matrices, from IR + inventory. */
export { evaluate, type Connection, type Decision, type Evaluation, type L4Protocol, type Step, type Verdict } from './evaluate.js';
export { reachabilityMatrix, type MatrixCell, type MatrixPort } from './matrix.js';
