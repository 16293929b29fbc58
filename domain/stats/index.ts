/** Pure statistics: safe to import from workflow code (no I/O, no clock, no randomness). */
export { chiSquareCdf, chiSquareSurvival } from './chi-square';
export { choleskyDecompose, choleskySolve, type Matrix } from './linear';
export { logistic, logit } from './logistic';
export { meanAndVariance, welchDifference, type MeanAndVariance, type MeanDifference, type MomentSums } from './means';
export { normalCdf, normalPdf, normalQuantile, normalSurvival } from './normal';
export { differenceOfProportions, type BinomialCounts, type ProportionDifference } from './proportions';
export { lnGamma, regularizedBeta, regularizedGammaP, regularizedGammaQ } from './special';
export { srmTest, type SrmResult } from './srm';
export { studentTCdf, studentTPdf, studentTQuantile } from './student-t';
