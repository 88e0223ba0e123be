using LearningMechanics.Data;

namespace LearningMechanics.Experiments;

/// <summary>
/// Rough operation counts and memory sizes of what experiments compute, for <see cref="Lab.IExperiment.Estimate"/>: the runner
/// refuses settings whose work or memory is far beyond a lab run before anything starts. Order-of-magnitude counts, not timings.
/// </summary>
internal static class WorkEstimate
{
    /// <summary>Bytes of one float64.</summary>
    public const double Float64 = 8;

    /// <summary>Workers of the parallel loops over networks and draws: one per core (<see cref="Numerics.Parallelism"/>).</summary>
    public static int Threads => Environment.ProcessorCount;

    /// <summary>Weights of an MLP with input dimension d, L hidden layers of width n and <paramref name="outputs"/> outputs:
    /// d·n + (L − 1)·n² + n·outputs, plus the biases.</summary>
    public static double MlpWeights(double d, double n, double depth, double outputs = 1) =>
        d * n + (depth - 1.0) * n * n + n * outputs + depth * n + outputs;

    /// <summary>Drawing one network's weights: about 20 operations per Gaussian draw.</summary>
    public static double Draw(double weights) => 20 * weights;

    /// <summary>One network's empirical NTK on m inputs: m forward and backward passes (≈ 6 operations per weight each) and
    /// the per-layer Gram matrices (bounded by 2·m² per weight).</summary>
    public static double EmpiricalNtk(double weights, double inputs) => weights * (6.0 * inputs + 2.0 * inputs * inputs);

    /// <summary>m forward passes (2 operations per weight each).</summary>
    public static double Forward(double weights, double inputs) => 2.0 * weights * inputs;

    /// <summary>Gradient training: each step a forward and a backward pass over the batch (≈ 6 operations per weight and
    /// example), then one pass over the data for the final loss.</summary>
    public static double Training(double weights, double steps, double batch, double data) =>
        6.0 * weights * batch * steps + Forward(weights, data);

    /// <summary>An exact Hessian-vector product over the data (forward, backward, R-forward, R-backward): about two gradients.
    /// </summary>
    public static double HessianVector(double weights, double data) => 12.0 * weights * data;

    /// <summary>Eigendecomposition of a symmetric n × n matrix: ≈ 10·n³.</summary>
    public static double Eigen(double n) => 10 * n * n * n;

    /// <summary>Cholesky factorisation of an n × n matrix and a solve: n³/3 + 2n².</summary>
    public static double Cholesky(double n) => n * n * n / 3 + 2 * n * n;

    /// <summary>Infinite-width kernels (NNGP and NTK) between r and c inputs of dimension d through L layers: the inner
    /// products and ≈ 100 operations per entry and layer.</summary>
    public static double Kernel(double rows, double cols, double d, double depth) => rows * cols * (2 * d + 100 * depth);

    /// <summary>Bytes of an r × c matrix of float64.</summary>
    public static double Matrix(double rows, double cols) => Float64 * rows * cols;

    /// <summary>Bytes of a network under gradient training: parameters, gradient and up to two optimiser moments.</summary>
    public static double TrainedNetwork(double weights) => 4 * Float64 * weights;

    /// <summary>Bytes of what a forward pass keeps for the backward pass: ≈ 3 buffers per neuron and example (pre- and
    /// post-activations, gradients).</summary>
    public static double Activations(double neurons, double batch) => 3 * Float64 * neurons * batch;

    /// <summary>Bytes of a Fashion-MNIST subset of m training images: the split's raw pixels while decoding and the images as
    /// float64 twice (decoded, then standardised or pooled).</summary>
    public static double FashionMnistSubset(double images) =>
        (double)FashionMnist.TrainCount * FashionMnist.Pixels + 2 * Matrix(Math.Min(images, FashionMnist.TrainCount), FashionMnist.Pixels);
}
