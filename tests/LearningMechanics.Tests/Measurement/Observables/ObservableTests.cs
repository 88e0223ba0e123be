using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Tests.Measurement.Observables;

public class ObservableTests
{
    [Fact]
    public void MarchenkoPasturFitRecoversTheVarianceOfARandomMatrix()
    {
        const double sigma2 = 0.7;
        var w = TestData.RandomMatrix(200, 500, 1);
        for (int i = 0; i < w.Data.Length; i++) w.Data[i] *= Math.Sqrt(sigma2);
        var s = WeightSpectrum.Analyse("w", w);
        double se = sigma2 * Math.Sqrt(2.0 / w.Data.Length);
        Assert.True(Math.Abs(s.Sigma2 - sigma2) < 4 * se, $"σ² fit {s.Sigma2}, true {sigma2} ± {se}");
        Assert.Empty(s.Outliers);
        Assert.True(s.KsDistance < 0.05, $"KS distance to MP {s.KsDistance}");
    }

    [Fact]
    public void APlantedSpikeAboveTheBbpThresholdIsTheOnlyOutlier()
    {
        int m = 200;
        int n = 500;
        var w = TestData.RandomMatrix(m, n, 2);
        var u = TestData.RandomMatrix(1, m, 3).Data;
        var v = TestData.RandomMatrix(1, n, 4).Data;
        double nu = Math.Sqrt(u.Sum(a => a * a));
        double nv = Math.Sqrt(v.Sum(a => a * a));
        // Spike strength θ = 3·√q in eigenvalue units of (1/n)WWᵀ, well above the BBP threshold √q.
        double q = (double)m / n;
        double theta = 3 * Math.Sqrt(q);
        double amp = Math.Sqrt(theta * n);
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) w[i, j] += amp * u[i] / nu * v[j] / nv;
        var s = WeightSpectrum.Analyse("spiked", w);
        Assert.Single(s.Outliers);
        Assert.True(Math.Abs(s.Sigma2 - 1) < 0.02, $"bulk σ² {s.Sigma2}");
        // BBP: the outlier sits at (θ + 1)(θ + q)/θ for σ² = 1.
        double predicted = (theta + 1) * (theta + q) / theta;
        Assert.InRange(s.Eigenvalues[0] / predicted, 0.95, 1.05);
    }

    [Fact]
    public void PowerLawTailExponentOfParetoSamplesIsRecoveredWithinFourStandardErrors()
    {
        var rng = new Rng(9);
        var x = Enumerable.Range(0, 5000).Select(_ => Math.Pow(1 - rng.NextDouble(), -1 / (3.0 - 1))).ToArray();
        var (alpha, se, _, k) = WeightSpectrum.PowerLawTail(x);
        Assert.True(k >= 100, $"tail of {k} points");
        Assert.True(Math.Abs(alpha - 3) < 4 * se, $"α̂ = {alpha} ± {se}");
    }

    [Fact]
    public void LinearCkaEqualsTheFeatureSpaceFormulaAndIsInvariantToRotationAndScale()
    {
        var x = TestData.RandomMatrix(40, 6, 1);
        var y = TestData.RandomMatrix(40, 4, 2);
        for (int i = 0; i < 40; i++) y[i, 0] += 2 * x[i, 0];
        // Independent route: centre the features, then ‖YᵀX‖²_F/(‖XᵀX‖_F‖YᵀY‖_F).
        Matrix C(Matrix a)
        {
            var c = a.Clone();
            for (int j = 0; j < a.Cols; j++)
            {
                double m = 0;
                for (int i = 0; i < a.Rows; i++) m += a[i, j];
                for (int i = 0; i < a.Rows; i++) c[i, j] -= m / a.Rows;
            }
            return c;
        }
        double F(Matrix a) => a.Data.Sum(v => v * v);
        var xc = C(x);
        var yc = C(y);
        double direct = F(Matrix.Multiply(yc, xc, Transpose.Yes))
            / Math.Sqrt(F(Matrix.Multiply(xc, xc, Transpose.Yes)) * F(Matrix.Multiply(yc, yc, Transpose.Yes)));
        Assert.Equal(direct, Cka.Linear(x, y), 1e-12);
        var (_, q) = Lapack.SymmetricEigen(Matrix.Multiply(x, x, Transpose.Yes)); // an orthogonal 6×6 matrix
        var rotated = Matrix.Multiply(x, q); for (int i = 0; i < rotated.Data.Length; i++) rotated.Data[i] *= 3;
        Assert.Equal(1.0, Cka.Linear(x, rotated), 1e-12);
        Assert.Equal(1.0, Cka.Rbf(x, rotated), 1e-12);
        Assert.InRange(Cka.Linear(x, TestData.RandomMatrix(40, 6, 7)), 0, 0.5);
    }

    [Fact]
    public void FeatureAnsatzAgopOfADeepLinearNetworkIsTheRankOneProduct()
    {
        // f(x) = m₂ w₂ᵀ (m₁ W₁ x): ∇ₓf = m₁m₂ W₁ᵀ w₂ for every x, so AGOP = (W₁ᵀw₂)(W₁ᵀw₂)ᵀ in
        // effective weights.
        var net = new Network<double>(NetworkSpec.Parse("dense(7)-dense(1)", Parameterization.Ntk, 1.3, 0.2), 4);
        net.Initialize(new Rng(3));
        var r = FeatureAnsatz.Measure(net, TestData.RandomMatrix(10, 4, 4));
        var w1 = net.EffectiveWeight(0);
        var w2 = net.EffectiveWeight(1);
        var g = Matrix.Multiply(w1, w2, Transpose.Yes, Transpose.Yes); // 4 × 1
        for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) Assert.Equal(g[i, 0] * g[j, 0], r.Agop[i, j], 1e-12);
        var nfm = Matrix.Multiply(w1, w1, Transpose.Yes);
        Assert.True(r.FeatureMatrix.MaxAbsDifference(nfm) < 1e-12);
    }

    [Fact]
    public void NeuralCollapseMetricsVanishAtExactCollapseAndMatchAOneDimensionalCase()
    {
        // Three classes at a simplex ETF in the plane, features exactly at their means, classifier = means.
        var means = Matrix.FromRows([[1, 0], [-0.5, Math.Sqrt(3) / 2], [-0.5, -Math.Sqrt(3) / 2]]);
        var labels = Enumerable.Range(0, 30).Select(i => i % 3).ToArray();
        var h = new Matrix(30, 2);
        for (int i = 0; i < 30; i++) means.Row(labels[i]).CopyTo(h.Row(i));
        var logits = Matrix.Multiply(h, means, Transpose.No, Transpose.Yes);
        var r = NeuralCollapse.Measure(h, labels, 3, means, logits);
        Assert.True(r.Nc1 < 1e-12 && r.Nc2 < 1e-12 && r.Nc3 < 1e-12 && r.Nc4 == 0, $"{r}");
        // p = 1, two classes at ±1 with within-class spread ±s: Σ_W = s², Σ_B = 1, NC1 = s²/2.
        double s = 0.3;
        var h1 = Matrix.FromRows([[1 + s], [1 - s], [-1 + s], [-1 - s]]);
        var r1 = NeuralCollapse.Measure(h1, [0, 0, 1, 1], 2, Matrix.FromRows([[1], [-1]]),
            Matrix.FromRows([[1, -1], [1, -1], [-1, 1], [-1, 1]]));
        Assert.Equal(s * s / 2, r1.Nc1, 1e-12);
    }

    [Theory]
    [InlineData("dense(16)-relu-dense(16)-relu-dense(2)", false)]
    [InlineData("dense(8)-dense(8)-linear-dense(2)", true)]
    public void GradientDescentConservesBalancednessUpToADriftLinearInTheStepSize(string arch, bool linear)
    {
        // Same training time ηT, two step sizes: the drift of the conserved quantities must halve with η,
        // while the weights themselves move by O(1).
        double Drift(double lr, out double moved)
        {
            var net = new Network<double>(NetworkSpec.Parse(arch, Parameterization.Standard, 2, 0.1), 3);
            net.Initialize(new Rng(1));
            var before = Conservation.Measure(net);
            var theta0 = (double[])net.Parameters.Clone();
            var data = new Dataset(TestData.RandomMatrix(20, 3, 2), TestData.RandomMatrix(20, 2, 3));
            var r = new Trainer<double>(net, data,
                new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd, lr), (int)Math.Round(2.0 / lr))).Run();
            Assert.Equal(TrainingStatus.Completed, r.Status);
            moved = Math.Sqrt(net.Parameters.Zip(theta0).Sum(p => (p.First - p.Second) * (p.First - p.Second)));
            var after = Conservation.Measure(net);
            double d = 0;
            for (int j = 0; j < before.Count; j++)
            {
                d = Math.Max(d, before[j].PerNeuron.Zip(after[j].PerNeuron).Max(p => Math.Abs(p.First - p.Second)));
                if (linear) d = Math.Max(d, before[j].Balancedness!.MaxAbsDifference(after[j].Balancedness!));
            }
            return d;
        }
        double big = Drift(0.02, out double moved);
        double small = Drift(0.01, out _);
        Assert.True(moved > 0.3, $"weights moved only {moved}");
        Assert.InRange(small / big, 0.4, 0.6);
        Assert.True(big < 0.05 * moved * moved, $"drift {big} vs squared movement {moved * moved}");
    }

    [Fact]
    public void CoordinateCheckIsFlatUnderMupAndGrowsUnderStandardParameterisation()
    {
        var data = new Dataset(TestData.RandomMatrix(32, 8, 1), TestData.RandomMatrix(32, 1, 2));
        double Growth(Parameterization p)
        {
            var rows = CoordinateCheck.Run("dense({n})-relu-dense({n})-relu-dense(1)", [256, 1024], p, data,
                new OptimizerSettings(OptimizerKind.Sgd, 0.05), 3, 32, 5);
            double At(int n) => rows.Single(r => r.Width == n && r.Step == 3 && r.Layer == 2).ChangeRms;
            return At(1024) / At(256);
        }
        double sp = Growth(Parameterization.Standard);
        double mup = Growth(Parameterization.MuP);
        // SP: the update of the output grows with n (and blows up); μP: Θ(1) once n is past small-width effects (n ≥ 256 here).
        Assert.True(sp > 4, $"SP output change grew only {sp}×");
        Assert.InRange(mup, 0.5, 2);
    }

    [Fact]
    public void KernelDistanceAndAlignmentHaveTheirDefiningValues()
    {
        var a = Matrix.FromRows([[2, 1], [1, 2]]);
        var b = a.Clone(); for (int i = 0; i < 4; i++) b.Data[i] *= 5;
        Assert.Equal(0, EmpiricalNtk.Distance(a, b), 1e-15);
        // yᵀΘy/(‖Θ‖_F‖y‖²) with y = (1, 1): 6/(√10·2).
        Assert.Equal(6 / (Math.Sqrt(10) * 2), EmpiricalNtk.Alignment(a, [1.0, 1.0]), 1e-15);
    }
}
