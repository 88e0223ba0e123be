using System.Diagnostics;
using LearningMechanics.Architecture;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Theory.KernelRegime;

/// <summary>
/// The infinite-width prediction of a network's outputs on test inputs after training on (x_train, y), without training
/// it: the architecture's kernels (NNGP K and, when asked, NTK Θ on train × train, test × train and the test diagonal),
/// the closed-form gradient-descent dynamics on the training kernel — mean Θ*·A_t·y and variance over initialisations
/// (Jacot et al. 2018; Lee et al. 2019), on Θ for training all layers or on K for the readout alone — and, for the NNGP,
/// the exact Gaussian-process posterior (Neal 1996; Lee et al. 2018). One pipeline for <c>lmech predict</c>, the
/// lazy-training experiment and the NNGP calibration.
/// </summary>
public sealed class KernelPredictor
{
    public Matrix KTrain { get; }
    public Matrix? TTrain { get; }
    public Matrix KTestTrain { get; }
    public Matrix? TTestTrain { get; }
    /// <summary>K(x, x) of each test input.</summary>
    public double[] KTestDiag { get; }
    /// <summary>True when the dynamics run on the NTK (all layers trained), false for the NNGP (readout only).</summary>
    public bool Ntk { get; }
    /// <summary>Gradient descent on the training kernel (Θ or K) with the ridge.</summary>
    public KernelDynamics Dynamics { get; }
    public double KernelSeconds { get; }
    public double EigenSeconds { get; }

    public KernelPredictor(NetworkSpec spec, Matrix xTrain, Matrix xTest, bool ntk = true, double ridge = 0)
    {
        var clock = Stopwatch.StartNew();
        var options = new KernelOptions(Ntk: ntk);
        (KTrain, TTrain) = NeuralKernels.Compute(spec, xTrain, options: options);
        (KTestTrain, TTestTrain) = NeuralKernels.Compute(spec, xTest, xTrain, options);
        KTestDiag = NeuralKernels.Diagonal(spec, xTest, ntk: false).Nngp;
        KernelSeconds = clock.Elapsed.TotalSeconds;
        Ntk = ntk;
        Dynamics = new KernelDynamics(ntk ? TTrain! : KTrain, ridge);
        EigenSeconds = clock.Elapsed.TotalSeconds - KernelSeconds;
    }

    /// <summary>The trained kernel between test and training inputs (Θ or K).</summary>
    public Matrix TrainedTestTrain => Ntk ? TTestTrain! : KTestTrain;

    /// <summary>Largest stable GD learning rate on the training kernel, N/λ_max (MSE as a mean over samples).</summary>
    public double MaxStableLearningRate => Dynamics.MaxStableLearningRate;

    /// <summary>Mean test outputs after training for <paramref name="when"/>, from zero-mean initial outputs.</summary>
    public Matrix Mean(Matrix y, TrainingTime when) => Dynamics.Mean(TrainedTestTrain, y, when);

    /// <summary>Variance of each test output over initialisations after training for <paramref name="when"/>.</summary>
    public double[] Variance(TrainingTime when) => Dynamics.Variance(TrainedTestTrain, KTrain, KTestTrain, KTestDiag, when);

    /// <summary>The NNGP posterior (Bayesian inference with the NNGP prior) with observation-noise variance
    /// <paramref name="noise"/>.</summary>
    public GaussianProcess.Posterior Posterior(Matrix y, double noise) =>
        GaussianProcess.Infer(KTrain, KTestTrain, KTestDiag, y, noise);
}
