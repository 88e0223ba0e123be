namespace LearningMechanics.Experiments;

/// <summary>
/// Rough operation counts of the ensembles experiments draw, for <see cref="Lab.IExperiment.EstimatedFlops"/>: the runner
/// refuses settings whose work is far beyond a lab run before anything starts. Order-of-magnitude counts, not timings.
/// </summary>
internal static class WorkEstimate
{
    /// <summary>Weights of an MLP with input dimension d, L hidden layers of width n and one output: d·n + (L − 1)·n² + n.</summary>
    public static double MlpWeights(int d, int n, int depth) => (double)d * n + (depth - 1.0) * n * n + n;

    /// <summary>Drawing one network's weights: about 20 operations per Gaussian draw.</summary>
    public static double Draw(double weights) => 20 * weights;

    /// <summary>One network's empirical NTK on m inputs: m forward and backward passes (≈ 6 operations per weight each) and
    /// the Gram matrix of the m Jacobian rows (2·m² per weight).</summary>
    public static double EmpiricalNtk(double weights, int inputs) => weights * (6.0 * inputs + 2.0 * inputs * inputs);

    /// <summary>m forward passes (2 operations per weight each).</summary>
    public static double Forward(double weights, int inputs) => 2.0 * weights * inputs;
}
