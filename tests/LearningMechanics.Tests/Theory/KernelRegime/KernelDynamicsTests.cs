using LearningMechanics.Architecture;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.KernelRegime;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Tests.Theory.KernelRegime;

/// <summary>Closed-form kernel dynamics against explicit gradient descent on the linear model, KRR and Monte Carlo.</summary>
public class KernelDynamicsTests
{
    private static (Matrix K, Matrix Theta, Matrix Y, int N) Setup(int n, int m)
    {
        var x = TestData.RandomMatrix(n + m, 5, 3);
        var (k, t) = NeuralKernels.Compute(NetworkSpec.Parse("dense(64)-relu-dense(64)-relu-dense(1)", sw2: 2, sb2: 0.1), x);
        var y = TestData.RandomMatrix(n, 1, 4);
        return (k, t!, y, n);
    }

    private static Matrix Block(Matrix a, int r0, int rows, int c0, int cols)
    {
        var b = new Matrix(rows, cols);
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) b[i, j] = a[r0 + i, c0 + j];
        return b;
    }

    [Fact]
    public void ClosedFormMeanEqualsStepByStepGradientDescent()
    {
        var (_, theta, y, n) = Setup(12, 4);
        var tt = Block(theta, 0, n, 0, n);
        var ts = Block(theta, n, 4, 0, n);
        var dyn = new KernelDynamics(tt);
        double eta = 0.7 * dyn.MaxStableLearningRate;
        int steps = 37;
        // Explicit GD on the linearised model from f₀ = 0 (the ensemble mean).
        var f = new double[n];
        var fs = new double[4];
        for (int k = 0; k < steps; k++)
        {
            var r = Enumerable.Range(0, n).Select(i => f[i] - y[i, 0]).ToArray();
            for (int i = 0; i < n; i++) { double g = 0; for (int j = 0; j < n; j++) g += tt[i, j] * r[j]; f[i] -= 2 * eta / n * g; }
            for (int i = 0; i < 4; i++) { double g = 0; for (int j = 0; j < n; j++) g += ts[i, j] * r[j]; fs[i] -= 2 * eta / n * g; }
        }
        var closedTest = dyn.Mean(ts, y, TrainingTime.Discrete(steps, eta));
        var closedTrain = dyn.Mean(tt, y, TrainingTime.Discrete(steps, eta));
        for (int i = 0; i < 4; i++) Assert.Equal(fs[i], closedTest[i, 0], 1e-10);
        for (int i = 0; i < n; i++) Assert.Equal(f[i], closedTrain[i, 0], 1e-10);
        Assert.Throws<BadInputException>(() => dyn.Mean(ts, y, TrainingTime.Flow(-1)));
    }

    [Fact]
    public void InfiniteTimeIsKernelRegressionAndSmallStepsApproachGradientFlow()
    {
        var (_, theta, y, n) = Setup(10, 3);
        var tt = Block(theta, 0, n, 0, n);
        var ts = Block(theta, n, 3, 0, n);
        var dyn = new KernelDynamics(tt);
        var krr = ts * Lapack.CholeskySolve(Lapack.Cholesky(tt), y);
        var inf = dyn.Mean(ts, y, TrainingTime.Infinite);
        for (int i = 0; i < 3; i++) Assert.Equal(krr[i, 0], inf[i, 0], 1e-8 * Math.Abs(krr[i, 0]) + 1e-10);
        // Gradient flow at time t is the limit of k steps of η = t/k.
        var flow = dyn.Mean(ts, y, TrainingTime.Flow(5.0));
        var fine = dyn.Mean(ts, y, TrainingTime.Discrete(200_000, 5.0 / 200_000));
        for (int i = 0; i < 3; i++) Assert.Equal(flow[i, 0], fine[i, 0], 1e-4 * Math.Abs(flow[i, 0]) + 1e-8);
        // A training set at convergence is interpolated.
        var train = dyn.Mean(tt, y, TrainingTime.Infinite);
        for (int i = 0; i < n; i++) Assert.Equal(y[i, 0], train[i, 0], 1e-7);
    }

    [Fact]
    public void VarianceMatchesAnEnsembleOfLinearisedNetworks()
    {
        // f₀ ~ GP(0, K) jointly on train and test, then explicit GD with the NTK: the closed form's variance within SE.
        var (k, theta, y, n) = Setup(8, 2);
        int m = 2;
        int all = n + m;
        var tt = Block(theta, 0, n, 0, n);
        var ts = Block(theta, n, m, 0, n);
        var dyn = new KernelDynamics(tt);
        double eta = 0.5 * dyn.MaxStableLearningRate;
        int steps = 15;
        var predicted = dyn.Variance(ts, Block(k, 0, n, 0, n), Block(k, n, m, 0, n), [k[n, n], k[n + 1, n + 1]],
            TrainingTime.Discrete(steps, eta));
        var kc = k.Clone(); for (int i = 0; i < all; i++) kc[i, i] += 1e-10;
        var l = Lapack.Cholesky(kc);
        var rng = new Rng(9);
        const int samples = 20_000;
        var outs = new double[m][]; for (int i = 0; i < m; i++) outs[i] = new double[samples];
        var z = new double[all];
        var f0 = new double[all];
        for (int s = 0; s < samples; s++)
        {
            rng.FillGaussian(z);
            for (int i = 0; i < all; i++) { double acc = 0; for (int j = 0; j <= i; j++) acc += l[i, j] * z[j]; f0[i] = acc; }
            var f = f0.Take(n).ToArray();
            var fs = f0.Skip(n).ToArray();
            for (int st = 0; st < steps; st++)
            {
                var r = Enumerable.Range(0, n).Select(i => f[i] - y[i, 0]).ToArray();
                var gTrain = new double[n];
                for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) gTrain[i] += tt[i, j] * r[j];
                for (int i = 0; i < m; i++) { double g = 0; for (int j = 0; j < n; j++) g += ts[i, j] * r[j]; fs[i] -= 2 * eta / n * g; }
                for (int i = 0; i < n; i++) f[i] -= 2 * eta / n * gTrain[i];
            }
            for (int i = 0; i < m; i++) outs[i][s] = fs[i];
        }
        for (int i = 0; i < m; i++)
        {
            double v = Statistics.Variance(outs[i]);
            double seV = v * Math.Sqrt(2.0 / (samples - 1));
            Assert.True(Math.Abs(v - predicted[i]) <= 4 * seV,
                $"test point {i}: ensemble variance {v} ± {seV} vs closed form {predicted[i]}");
        }
    }

    [Fact]
    public void GaussianProcessPosteriorAgreesWithTheEigenRoute()
    {
        var (k, _, y, n) = Setup(10, 3);
        var kt = Block(k, 0, n, 0, n);
        var ks = Block(k, n, 3, 0, n);
        double[] kss = [k[n, n], k[n + 1, n + 1], k[n + 2, n + 2]];
        double noise = 0.05;
        var post = GaussianProcess.Infer(kt, ks, kss, y, noise);
        // Independent route: the infinite-time, ridge-regularised dynamics with Θ = K is the same posterior mean and variance.
        var dyn = new KernelDynamics(kt, noise);
        var mean = dyn.Mean(ks, y, TrainingTime.Infinite);
        for (int i = 0; i < 3; i++) Assert.Equal(post.Mean[i, 0], mean[i, 0], 1e-9);
        // Posterior variance K** − K*(K + σ²I)⁻¹K*ᵀ written out with a Cholesky solve.
        var solved = Lapack.CholeskySolve(Lapack.Cholesky(Add(kt, noise)), ks.Transposed());
        for (int i = 0; i < 3; i++)
        {
            double q = 0; for (int j = 0; j < n; j++) q += ks[i, j] * solved[j, i];
            Assert.Equal(kss[i] - q, post.Variance[i], 1e-10);
        }
        // log p(y) against the eigen form −½ Σ (vᵢᵀy)²/λᵢ − ½ Σ log λᵢ − N/2 log 2π.
        var (values, vectors) = Lapack.SymmetricEigen(Add(kt, noise));
        double lml = -0.5 * n * Math.Log(2 * Math.PI);
        for (int i = 0; i < n; i++)
        {
            double proj = 0; for (int j = 0; j < n; j++) proj += vectors[j, i] * y[j, 0];
            lml -= 0.5 * proj * proj / values[i] + 0.5 * Math.Log(values[i]);
        }
        Assert.Equal(lml, post.LogMarginalLikelihood, 1e-9);
        Assert.Throws<BadInputException>(() =>
            GaussianProcess.Infer(Matrix.FromRows([[1.0, 1.0], [1.0, 1.0]]), new Matrix(1, 2), [1.0], new Matrix(2, 1), 0));
    }

    private static Matrix Add(Matrix a, double d) { var b = a.Clone(); for (int i = 0; i < b.Rows; i++) b[i, i] += d; return b; }
}
