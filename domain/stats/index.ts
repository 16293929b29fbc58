/** Pure statistics: safe to import from workflow code (no I/O, no clock, no randomness). */
export { chiSquareCdf, chiSquareSurvival } from './chi-square';
export { cupedDifference, type AdjustedDifference, type CovariateSums } from './cuped';
export { choleskyDecompose, choleskySolve, type Matrix } from './linear';
export { logistic, logit } from './logistic';
export { meanAndVariance, welchDifference, type MeanAndVariance, type MeanDifference, type MomentSums } from './means';
export { normalCdf, normalPdf, normalQuantile, normalSurvival } from './normal';
export { minimumDetectableEffect, proportionTestPower, requiredUsers, type ProportionPowerInput } from './power';
export { differenceOfProportions, wilsonInterval, type BinomialCounts, type ProportionDifference, type ProportionInterval } from './proportions';
export { pairedRandomizationInterval, type PairedRandomizationInterval } from './randomization';
export { ratioDifference, type RatioDifference, type RatioSums } from './ratio';
export { groupSequentialBoundaries, obrienFlemingSpending, sequentialDecision, stagewiseInterval, type SequentialDecision, type SequentialLook, type StagewiseInterval, type TakenLook } from './sequential';
export { lnGamma, regularizedBeta, regularizedGammaP, regularizedGammaQ } from './special';
export { srmTest, type SrmResult } from './srm';
export { studentTCdf, studentTQuantile } from './student-t';
