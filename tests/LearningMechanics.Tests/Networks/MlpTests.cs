using LearningMechanics.Architecture;
using LearningMechanics.Experiments;
using LearningMechanics.Measurement.Ensembles;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Tests.Networks;

public class MlpTests
{
    [Fact]
    public void ForwardMatchesAHandWrittenLoop()
    {
        var spec = new MlpSpec(3, 5, 2, new Tanh(), 1.7, 0.3);
        var net = new Mlp(spec);
        net.Initialize(new Rng(2));
        var x = new Matrix(4, 3);
        new Rng(3).FillGaussian(x.Data);
        var y = net.Forward(x, net.CreateWorkspace(4));
        for (int b = 0; b < 4; b++)
        {
            double[] h = x.Row(b).ToArray();
            for (int l = 0; l <= spec.Depth; l++)
            {
                int fin = spec.FanIn(l);
                int fout = spec.FanOut(l);
                var z = new double[fout];
                for (int i = 0; i < fout; i++)
                {
                    double s = 0; for (int j = 0; j < fin; j++) s += net.Weights(l)[i * fin + j] * h[j];
                    z[i] = Math.Sqrt(1.7 / fin) * s + Math.Sqrt(0.3) * net.Biases(l)[i];
                }
                h = l == spec.Depth ? z : z.Select(Math.Tanh).ToArray();
            }
            Assert.Equal(h[0], y[b, 0], 1e-12);
        }
    }

    [Fact]
    public void OneHiddenLayerEnsembleCovarianceEqualsNngpWithinStandardError()
    {
        // One hidden layer: the first-layer preactivations are exactly Gaussian, so E[K̂] = K_NNGP at any width.
        var spec = new MlpSpec(4, 64, 1, new Tanh(), 1.5, 0.1);
        var x = Matrix.FromRows([[1.0, 0.5, -0.2, 0.3], [0.2, -1.0, 0.4, 0.9]]);
        var k = Nngp.Kernel(spec, x);
        var net = new Mlp(spec);
        var ws = net.CreateWorkspace(2);
        var root = new Rng(10);
        const int m = 4000;
        var kc = new double[3][];
        for (int p = 0; p < 3; p++) kc[p] = new double[m];
        for (int i = 0; i < m; i++)
        {
            net.Initialize(root.Split((ulong)i));
            net.Forward(x, ws);
            var h = ws.Post[0];
            double Dot(int a, int b) { double s = 0; for (int j = 0; j < 64; j++) s += h[a, j] * h[b, j]; return s; }
            kc[0][i] = 0.1 + 1.5 * Dot(0, 0) / 64; kc[1][i] = 0.1 + 1.5 * Dot(0, 1) / 64; kc[2][i] = 0.1 + 1.5 * Dot(1, 1) / 64;
        }
        double[] pred = [k[0, 0], k[0, 1], k[1, 1]];
        for (int p = 0; p < 3; p++)
        {
            double mean = Statistics.Mean(kc[p]);
            double se = Statistics.StandardError(kc[p]);
            Assert.True(Math.Abs(mean - pred[p]) <= 4 * se, $"entry {p}: {mean} ± {se} vs {pred[p]}");
        }
        // The depth-1 exact kurtosis formula against the same ensemble (3·Var K̂ / E[K̂]²).
        var (kappa, kse) = ConditionalKernelEnsemble.Kurtosis(kc[0]);
        double exact = GpLimitExperiment.ExactKurtosis(spec, Nngp.InputKernel(x, 1.5, 0.1), 1, 64)!.Value;
        Assert.True(Math.Abs(kappa - exact) <= 4 * kse, $"kurtosis {kappa} ± {kse} vs exact {exact}");
    }

    [Fact]
    public void ReluExactKurtosisIsFifteenOverNAtOneLayer()
    {
        var spec = new MlpSpec(2, 10, 3, new Relu(), 2, 0);
        var k1 = Nngp.InputKernel(Matrix.FromRows([[1.0, 1.0]]), 2, 0);
        Assert.Equal(15.0 / 10, GpLimitExperiment.ExactKurtosis(spec, k1, 1, 10)!.Value, 1e-12);
        Assert.Equal(3 * (Math.Pow(1.5, 3) - 1), GpLimitExperiment.ExactKurtosis(spec, k1, 3, 10)!.Value, 1e-12);
    }

    [Fact]
    public void InvalidArchitecturesAreBadInput()
    {
        Assert.Throws<BadInputException>(() => new Mlp(new MlpSpec(3, 0, 2, new Relu(), 2, 0)));
        Assert.Throws<BadInputException>(() => new Mlp(new MlpSpec(3, 4, -1, new Relu(), 2, 0)));
        Assert.Throws<BadInputException>(() => new Mlp(new MlpSpec(3, 4, 2, new Relu(), double.NaN, 0)));
        var net = new Mlp(new MlpSpec(3, 4, 2, new Relu(), 2, 0));
        Assert.Throws<BadInputException>(() => net.Forward(new Matrix(2, 5), net.CreateWorkspace(2)));
    }
}
