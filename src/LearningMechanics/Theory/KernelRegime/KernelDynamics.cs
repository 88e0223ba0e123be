using LearningMechanics.Numerics;

namespace LearningMechanics.Theory.KernelRegime;

/// <summary>When to read the predictions: gradient-flow time t = η·steps, k discrete steps of learning rate η, or ∞.</summary>
public readonly record struct TrainingTime(double Time, int? Steps = null, double LearningRate = 0)
{
    public static TrainingTime Flow(double t) => new(t);
    public static TrainingTime Discrete(int steps, double learningRate) => new(steps * learningRate, steps, learningRate);
    public static TrainingTime Infinite => new(double.PositiveInfinity);
    public bool IsInfinite => double.IsPositiveInfinity(Time) && Steps is null;
}

/// <summary>
/// Closed-form training dynamics of an infinitely wide network under gradient descent on the mean squared error
/// L = (1/N)Σ(f − y)² (Jacot et al. 2018; Roberts &amp; Yaida 2022, ch. 10; Lee et al. 2019, eqs. 9–16;
/// the MSE is a mean over samples, as in training). The network evolves as its linearisation:
/// f_{k+1} − y = (I − (2η/N)Θ)(f_k − y) on the training set,
/// f*_{k+1} = f*_k − (2η/N)Θ*(f_k − y) on test inputs, with f₀ ~ GP(0, K) at initialisation. With Θ = VΛVᵀ and
/// A = V·diag(a(λ))·Vᵀ, a(λ) = (1 − (1 − 2ηλ/N)^k)/λ for k steps (→ (1 − e^{−2λt/N})/λ for gradient flow at time
/// t = ηk, → 1/λ at t = ∞):
/// <list type="bullet">
/// <item>mean on test inputs μ* = Θ*·A·y (train: ΘAy = V·diag(λa)·Vᵀy);</item>
/// <item>variance on test inputs Σ* = K** + Θ*AKAΘ*ᵀ − Θ*AK*ᵀ − K*AΘ*ᵀ (the initial function's fluctuations
/// propagated).</item>
/// </list>
/// At t = ∞ the mean is kernel regression Θ*Θ⁻¹y. A ridge r adds r·I to Θ (gradient descent with L2 regularisation
/// of the function in the kernel's RKHS, i.e. kernel ridge regression at t = ∞).
/// </summary>
public sealed class KernelDynamics
{
    private readonly Matrix vectors;
    private readonly double[] values;
    private readonly int n;

    /// <summary>Eigendecomposes the training kernel Θ (+ ridge·I) once; every prediction reuses it.</summary>
    public KernelDynamics(Matrix thetaTrain, double ridge = 0)
    {
        if (thetaTrain.Rows != thetaTrain.Cols)
            throw new BadInputException($"The training kernel must be square, got {thetaTrain.Rows}×{thetaTrain.Cols}.");
        if (!(ridge >= 0) || !double.IsFinite(ridge)) throw new BadInputException($"Ridge {ridge} must be a finite number ≥ 0.");
        n = thetaTrain.Rows;
        var t = thetaTrain.Clone();
        for (int i = 0; i < n; i++) t[i, i] += ridge;
        (values, vectors) = Lapack.SymmetricEigen(t);
        if (values.Length > 0 && values[0] < -1e-9 * Math.Abs(values[^1]))
            throw new BadInputException($"The training kernel is not positive semidefinite (smallest eigenvalue {values[0]:G4}).");
    }

    /// <summary>Eigenvalues of Θ (+ ridge), ascending.</summary>
    public IReadOnlyList<double> Eigenvalues => values;

    /// <summary>Largest learning rate for which GD on the linearised model converges: η &lt; N/λ_max
    /// (the step is (2η/N)Θ for the MSE L = (1/N)Σ(f − y)²).</summary>
    public double MaxStableLearningRate => n / values[^1];

    /// <summary>
    /// a(λ) for gradient-flow time t, k steps of learning rate η, or t = ∞ (the converged predictor). A zero eigenvalue with
    /// infinite time is refused (the predictor is not defined without ridge).
    /// </summary>
    private double[] Weights(TrainingTime when)
    {
        double time = when.Time;
        double eta = when.LearningRate;
        int? steps = when.Steps;
        var a = new double[n];
        for (int i = 0; i < n; i++)
        {
            double l = Math.Max(values[i], 0);
            if (when.IsInfinite)
            {
                if (l <= 1e-12 * values[^1])
                    throw new BadInputException(
                        $"The training kernel is singular (eigenvalue {values[i]:G3}); infinite-time predictions need --ridge > 0.");
                a[i] = 1 / l;
            }
            else if (steps is { } k)
            {
                double q = 1 - 2 * eta * l / n;
                a[i] = l == 0 ? 2.0 * eta * k / n : (1 - Math.Pow(q, k)) / l;
            }
            else a[i] = l == 0 ? 2.0 * time / n : -double.ExpM1(-2 * l * time / n) / l;
        }
        return a;
    }

    /// <summary>A = V·diag(a)·Vᵀ.</summary>
    private Matrix Operator(double[] a)
    {
        var va = vectors.Clone();
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) va[i, j] *= a[j];
        return Matrix.Multiply(va, vectors, Transpose.No, Transpose.Yes);
    }

    /// <summary>Mean predictions Θ*·A·y on test inputs (rows of <paramref name="thetaTestTrain"/>), for targets y (N ×
    /// outputs).</summary>
    public Matrix Mean(Matrix thetaTestTrain, Matrix y, TrainingTime when)
    {
        Check(thetaTestTrain, y, when);
        // Θ*·(V·(a ⊙ (Vᵀy))): O(N² + MN) after the eigendecomposition, never forming the N×N operator.
        var a = Weights(when);
        var w = Matrix.Multiply(vectors, y, Transpose.Yes);
        for (int i = 0; i < n; i++) for (int c = 0; c < w.Cols; c++) w[i, c] *= a[i];
        return thetaTestTrain * (vectors * w);
    }

    /// <summary>
    /// Variance of the prediction at each test input over initialisations: diag(K** + Θ*AKAΘ*ᵀ − 2·Θ*AK*ᵀ), where
    /// <paramref name="kTrain"/> = K (N×N), <paramref name="kTestTrain"/> = K* (M×N), <paramref name="kTestDiag"/> = K(x*, x*).
    /// </summary>
    public double[] Variance(Matrix thetaTestTrain, Matrix kTrain, Matrix kTestTrain, double[] kTestDiag, TrainingTime when)
    {
        Check(thetaTestTrain, new Matrix(n, 1), when);
        var a = Operator(Weights(when));
        var b = thetaTestTrain * a;                       // M×N: Θ*A
        var bk = b * kTrain;                               // Θ*AK
        var result = new double[thetaTestTrain.Rows];
        for (int m = 0; m < result.Length; m++)
        {
            double quad = 0;
            double cross = 0;
            for (int j = 0; j < n; j++) { quad += bk[m, j] * b[m, j]; cross += b[m, j] * kTestTrain[m, j]; }
            result[m] = Math.Max(kTestDiag[m] + quad - 2 * cross, 0);
        }
        return result;
    }

    private void Check(Matrix thetaTestTrain, Matrix y, TrainingTime when)
    {
        double time = when.Time;
        double eta = when.LearningRate;
        int? steps = when.Steps;
        if (thetaTestTrain.Cols != n) throw new BadInputException($"Test kernel has {thetaTestTrain.Cols} training columns, expected {n}.");
        if (y.Rows != n) throw new BadInputException($"Targets have {y.Rows} rows, expected {n} (one per training input).");
        if (y.Data.Any(v => !double.IsFinite(v))) throw new BadInputException("Targets contain NaN or infinite values.");
        if (!(time >= 0)) throw new BadInputException($"Time {time} must be ≥ 0 (or inf).");
        if (steps is { } k && (k < 0 || !(eta > 0)))
            throw new BadInputException($"Discrete GD needs steps ≥ 0 and a learning rate > 0 (got {k}, {eta}).");
    }
}
