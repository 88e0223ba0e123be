using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Measurement.Inference;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.FiniteWidth;

namespace LearningMechanics.Tests.Theory.FiniteWidth;

public class FiniteWidthPosteriorTests
{
    private static Matrix Inputs(int m, int d, ulong seed) =>
        LearningMechanics.Data.Inputs.ToSphere(Synthetic.GaussianInputs(m, d, new Rng(seed)));

    [Fact]
    public void ATestPointOnATrainingPointReturnsItsTargetWithoutNoise()
    {
        var x = Inputs(3, 4, 1);
        var y = new Matrix(2, 2, [0.7, -1.1, 0.4, 0.9]);
        var train = new Matrix(2, 4, [.. x.Data.AsSpan(0, 8)]);
        var test = new Matrix(1, 4, [.. x.Data.AsSpan(4, 4)]);   // = training input 1
        var r = FiniteWidthPosterior.Mean(new(Activation.Parse("tanh"), 1.0, 0.1), 3, train, y, test);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(y[1, i], r.GpMean[0, i], 1e-10);
            Assert.Equal(0, r.Correction(0, i), 1e-8);
            Assert.Equal(0, r.VarianceCorrection[0, i], 1e-8);
        }
        Assert.Equal(0, r.GpVariance[0], 1e-10);
        // Bad input is refused with the value named, not propagated as NaN.
        var nan = new Matrix(2, 2, [0.7, double.NaN, 0.4, 0.9]);
        var tanh = new Initialization(Activation.Parse("tanh"), 1.0, 0.1);
        var e = Assert.Throws<BadInputException>(() => FiniteWidthPosterior.Mean(tanh, 3, train, nan, test));
        Assert.Contains("NaN", e.Message);
        Assert.Throws<BadInputException>(() => FiniteWidthPosterior.Mean(tanh, 3, train, y, test, noise: -1));
        Assert.Throws<BadInputException>(() =>
            FiniteWidthPosterior.Mean(new(Activation.Parse("tanh"), 1.0, 0.1), 3, train, y, new Matrix(1, 3)));
    }

    /// <remarks>
    /// Independent route: given the last hidden layer the outputs are N(0, Ĝ) i.i.d. over components, so the posterior
    /// mean is E[w(Ĝ)m(Ĝ)]/E[w(Ĝ)] with w = Π_i N(y_i; 0, Ĝ_AA + σ²) and m_i = Ĝ_βA(Ĝ_AA + σ²)⁻¹y_i. With E[Ĝ] = K + G¹/n
    /// and Cov(Ĝ) = V/n, the second-order delta method gives the 1/n term
    /// [∇(wm)·G¹ + ½∂²(wm):V − m₀(∇w·G¹ + ½∂²w:V)]/w₀, computed here by finite differences of w and m over the
    /// pair variables: no Edgeworth expansion, no Hermite tensors, no Wick contractions.
    /// </remarks>
    [Theory]
    [InlineData("relu", 2.0, 0.0, 2, 2, 0.0)]
    [InlineData("tanh", 1.0, 0.05, 2, 3, 0.0)]
    [InlineData("relu", 1.7, 0.1, 3, 1, 0.2)]
    [InlineData("erf", 1.5, 0.1, 2, 1, 0.2)]
    [InlineData("gelu", 1.8, 0.0, 1, 2, 0.05)]
    public void EdgeworthExpansionEqualsTheDeltaMethodOfTheScaleMixture(string name, double sw2, double sb2, int na, int outputs,
        double noise)
    {
        var act = Activation.Parse(name);
        var x = Inputs(na + 1, 5, 7);
        var layer = MultiInputVertex.Compute(new(act, sw2, sb2), LearningMechanics.Data.Inputs.Gram(x), 4)[^1];
        var rng = new Rng(3);
        var y = new Matrix(na, outputs);
        for (int i = 0; i < y.Data.Length; i++) y.Data[i] = 1.3 * rng.NextGaussian();
        var (gp, gpVar, metric, vertex, varCorr) = FiniteWidthPosterior.AtTestPoint(layer, y, noise);

        int m = na + 1;
        int np = layer.Pairs.Length;
        (double W, double[] M, double V) At(double[] g)
        {
            var s = new Matrix(na, na);
            for (int a = 0; a < na; a++) for (int c = 0; c < na; c++) s[a, c] = g[layer.PairIndex(a, c)] + (a == c ? noise : 0);
            var p = Lapack.CholeskySolve(Lapack.Cholesky(s), Matrix.Identity(na));
            double det = Lapack.SymmetricEigen(s).Values.Aggregate(1.0, (acc, v) => acc * v);
            double logW = -0.5 * outputs * Math.Log(det);
            double mean;
            var means = new double[outputs];
            for (int i = 0; i < outputs; i++)
            {
                for (int a = 0; a < na; a++) for (int c = 0; c < na; c++) logW -= 0.5 * y[a, i] * p[a, c] * y[c, i];
                mean = 0;
                for (int a = 0; a < na; a++) for (int c = 0; c < na; c++) mean += g[layer.PairIndex(na, a)] * p[a, c] * y[c, i];
                means[i] = mean;
            }
            // Conditional variance Ĝ_ββ − Ĝ_βA(Ĝ_AA + σ²)⁻¹Ĝ_Aβ, the same for every component.
            double v = g[layer.PairIndex(na, na)];
            for (int a = 0; a < na; a++) for (int c = 0; c < na; c++) v -= g[layer.PairIndex(na, a)] * p[a, c] * g[layer.PairIndex(na, c)];
            return (Math.Exp(logW), means, v);
        }
        var k = layer.K;
        var (w0, m0, v0) = At(k);
        double h = 2e-4;   // truncation O(h²/λ_min(K_AA)²) and roundoff O(ε/h²) both well below the 1e-4 tolerance
        double[] Shift(params (int Index, double By)[] d) { var g = (double[])k.Clone(); foreach (var (i, b) in d) g[i] += b; return g; }
        // First-order change of E[f(Ĝ)] over E[Ĝ] = K + G¹/n, Cov(Ĝ) = V/n: ∇f·G¹ + ½∂²f:V (per 1/n).
        double Shift1(Func<double[], double> f)
        {
            double total = 0;
            for (int r = 0; r < np; r++)
            {
                total += (f(Shift((r, h))) - f(Shift((r, -h)))) / (2 * h) * layer.G1[r];
                for (int t = 0; t < np; t++)
                {
                    double mixed = r == t
                        ? (f(Shift((r, h))) - 2 * f(k) + f(Shift((r, -h)))) / (h * h)
                        : (f(Shift((r, h), (t, h))) - f(Shift((r, h), (t, -h)))
                            - f(Shift((r, -h), (t, h))) + f(Shift((r, -h), (t, -h)))) / (4 * h * h);
                    total += 0.5 * mixed * layer.V[r, t];
                }
            }
            return total;
        }
        double dW = Shift1(g => At(g).W);
        for (int i = 0; i < outputs; i++)
        {
            // Mean: E[wm]/E[w]; variance: E[w(v + m²)]/E[w] − mean².
            double deltaMean = (Shift1(g => { var a = At(g); return a.W * a.M[i]; }) - m0[i] * dW) / w0;
            double second = (Shift1(g => { var a = At(g); return a.W * (a.V + a.M[i] * a.M[i]); }) - (v0 + m0[i] * m0[i]) * dW) / w0;
            double deltaVar = second - 2 * m0[i] * deltaMean;
            Assert.Equal(m0[i], gp[i], 1e-12);
            Assert.Equal(v0, gpVar, 1e-12);
            double scale = layer.V.Cast<double>().Max(Math.Abs) * 1e-3;
            Assert.True(Math.Abs(metric[i] + vertex[i] - deltaMean) <= 1e-4 * (Math.Abs(deltaMean) + scale),
                $"component {i}: Edgeworth {metric[i] + vertex[i]}, delta method {deltaMean}");
            Assert.True(Math.Abs(varCorr[i] - deltaVar) <= 1e-4 * (Math.Abs(deltaVar) + scale),
                $"component {i} variance: Edgeworth {varCorr[i]}, delta method {deltaVar}");
        }
    }

    [Fact]
    public void ImportanceSamplerIsTheExactMixturePosterior()
    {
        // Two equally likely conditional kernels over (train 0, train 1, test): the posterior is their likelihood-weighted mix.
        // Kernel entries of the pairs (00, 01, 02, 11, 12, 22).
        double[] ga = [1.0, 0.3, 0.5, 1.2, 0.2, 0.9];
        double[] gb = [0.6, -0.1, 0.2, 0.8, 0.4, 1.1];
        var y = new Matrix(2, 1, [0.8, -0.5]);
        const int nets = 1000;
        var kernels = Enumerable.Range(0, 6)
            .Select(p => Enumerable.Range(0, nets).Select(s => s % 2 == 0 ? ga[p] : gb[p]).ToArray()).ToArray();
        (double Lik, double Mean, double Var) Exact(double[] g)
        {
            double a = g[0];
            double b = g[1];
            double d = g[3];
            double det = a * d - b * b;
            double q = (d * 0.8 * 0.8 - 2 * b * 0.8 * -0.5 + a * 0.25) / det;
            double u0 = (d * 0.8 - b * -0.5) / det;
            double u1 = (a * -0.5 - b * 0.8) / det;
            // Conditional variance g₂₂ − kᵀS⁻¹k with k = (g₀₂, g₁₂).
            double v = g[5] - (d * g[2] * g[2] - 2 * b * g[2] * g[4] + a * g[4] * g[4]) / det;
            return (Math.Exp(-q / 2) / (2 * Math.PI * Math.Sqrt(det)), g[2] * u0 + g[4] * u1, v);
        }
        var (la, ma, va) = Exact(ga); var (lb, mb, vb) = Exact(gb);
        var (means, variances) = BayesianEnsemble.Posterior(kernels, 3, y, 2);
        var est = means[0];
        double mean = (la * ma + lb * mb) / (la + lb);
        Assert.Equal(mean, est.Value, 1e-12);
        Assert.Equal((la * (va + ma * ma) + lb * (vb + mb * mb)) / (la + lb) - mean * mean, variances[0].Value, 1e-12);
        Assert.Equal(Math.Pow(la + lb, 2) / (la * la + lb * lb) * nets / 2, est.EffectiveSamples, 1e-6);
        Assert.Equal(0, est.Influence.Sum(), 1e-12);
        Assert.Equal(0, variances[0].Influence.Sum(), 1e-12);
    }
}
