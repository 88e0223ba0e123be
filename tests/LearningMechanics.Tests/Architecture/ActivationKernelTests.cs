using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Tests.Architecture;

/// <summary>
/// Every closed form for E[φφ] and E[φ′φ′] against an independent numerical route: for smooth φ, high-order
/// Gauss–Hermite; for φ with a kink or jump at 0, a kink-aware composite Gauss–Legendre integration that splits both
/// integrals exactly at the discontinuities (so it converges to machine precision).
/// </summary>
public class ActivationKernelTests
{
    private static double Pdf(double z) => Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI);
    private static double Phi(double z) => AndersonDarling.NormalCdf(z);

    private static double KinkAware(Func<double, double> f, Func<double, double> g, double k11, double k12, double k22) =>
        GaussLegendre.ExpectPairKinked(f, g, k11, k12, k22);

    public static IEnumerable<object[]> Cases()
    {
        string[] acts =
        [
            "relu", "leaky_relu(0.2)", "abs", "erf", "gelu", "sin", "cos", "linear", "sign", "step", "monomial(2)", "monomial(3)",
            "poly(0.5,1,-0.3,0.1)",
        ];
        double[][] triples = [[1.0, 0.3, 0.8], [0.5, -0.45, 0.6], [2.0, 1.999, 2.0], [1.3, 0.0, 0.7], [0.9, -0.9, 0.9]];
        foreach (var a in acts) foreach (var t in triples) yield return [a, t[0], t[1], t[2]];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ClosedFormsAgreeWithIndependentQuadrature(string name, double k11, double k12, double k22)
    {
        var act = Activation.Parse(name);
        Assert.True(act.HasClosedForm);
        bool smooth = act.IsSmooth;
        double Reference(Func<double, double> f) => smooth
            ? GaussHermite.Expect2(f, f, k11, k12, k22, 160)
            : KinkAware(f, f, k11, k12, k22);
        double closed = act.PairExpectation(k11, k12, k22);
        double numeric = Reference(act.Apply);
        Assert.True(Math.Abs(closed - numeric) <= 1e-10 * Math.Abs(numeric) + 1e-13, $"E[φφ] {name}: closed {closed} vs {numeric}");
        if (!act.IsDifferentiable) return;
        double dClosed = act.DerivativePairExpectation(k11, k12, k22);
        double dNumeric = Reference(act.Derivative);
        Assert.True(Math.Abs(dClosed - dNumeric) <= 1e-10 * Math.Abs(dNumeric) + 1e-13, $"E[φ′φ′] {name}: closed {dClosed} vs " +
            $"{dNumeric}");
    }

    /// <summary>The closed forms of E[φ(u)²φ(v)²] (Wick; the degree-2 arc-cosine kernel) against the kink-aware quadrature
    /// of φ², including c = ±1 and anti-correlated pairs.</summary>
    [Theory]
    [InlineData("relu")]
    [InlineData("leaky_relu(0.2)")]
    [InlineData("leaky_relu(-0.7)")]
    [InlineData("abs")]
    [InlineData("linear")]
    public void SquaredPairClosedFormsAgreeWithQuadrature(string name)
    {
        var act = Activation.Parse(name);
        double Square(double z) => act.Apply(z) * act.Apply(z);
        double[][] triples = [[1.0, 0.3, 0.8], [0.5, -0.45, 0.6], [2.0, 2.0, 2.0], [1.3, 0.0, 0.7], [0.9, -0.9, 0.9], [3.1, 2.2, 1.7]];
        foreach (var t in triples)
        {
            double closed = act.ExpectSquaredPair(t[0], t[1], t[2]);
            double numeric = KinkAware(Square, Square, t[0], t[1], t[2]);
            Assert.True(Math.Abs(closed - numeric) <= 1e-10 * Math.Abs(numeric), $"E[φ²φ²] {name} at ({string.Join(", ", t)}): " +
                $"closed {closed} vs quadrature {numeric}");
        }
    }

    [Theory]
    [MemberData(nameof(TestData.QuadratureActivations), MemberType = typeof(TestData))]
    public void QuadratureActivationsConvergeAndTheirErrorEstimateIsHonest(string name)
    {
        var act = Activation.Parse(name);
        double k11 = 1.2;
        double k12 = 0.5;
        double k22 = 0.9;
        double value = act.PairExpectation(k11, k12, k22);
        double reference = name == "elu" ? EluByConditioning(k11, k12, k22) : act.Quadrature(k11, k12, k22, 300);
        double error = Math.Abs(value - reference);
        Assert.True(error <= 1e-9 * Math.Abs(reference), $"{name}: {value} vs {reference}");
        // The estimate |Q(q) − Q(3q/4)| bounds the actual error of Q(q) for these smooth integrands.
        Assert.True(act.QuadratureError(k11, k12, k22) >= error || error < 1e-14,
            $"{name}: estimate {act.QuadratureError(k11, k12, k22)} < error {error}");
        Assert.True(act.DerivativePairExpectation(k11, k12, k22) > 0);
    }

    /// <summary>
    /// E[elu(u)elu(v)] with the inner expectation in closed form: for w = a + b·z, z ~ N(0, 1),
    /// E[elu(w)] = aΦ(a/b) + bφ(a/b) + e^{a + b²/2}Φ(−a/b − b) − Φ(−a/b); the outer 1-D integral is split at z₁ = 0.
    /// </summary>
    private static double EluByConditioning(double k11, double k12, double k22)
    {
        double s1 = Math.Sqrt(k11);
        double s2 = Math.Sqrt(k22);
        double c = k12 / (s1 * s2);
        double sc = Math.Sqrt(1 - c * c);
        double Inner(double z1)
        {
            double a = s2 * c * z1;
            double b = s2 * sc;
            double t = a / b;
            return a * Phi(t) + b * Pdf(t) + Math.Exp(a + b * b / 2) * Phi(-t - b) - Phi(-t);
        }
        var elu = new Elu();
        return GaussLegendre.ExpectNormal(z1 => elu.Apply(s1 * z1) * Inner(z1), 0, 20);
    }

    [Fact]
    public void GaussLegendreIsExactForPolynomialsAndHandlesKinks()
    {
        var (x, w) = GaussLegendre.Rule(7);
        for (int p = 0; p <= 13; p++)
        {
            double exact = p % 2 == 1 ? 0 : 2.0 / (p + 1);
            double sum = 0;
            for (int i = 0; i < 7; i++) sum += w[i] * Math.Pow(x[i], p);
            Assert.Equal(exact, sum, 1e-14);
        }
        Assert.Equal(Math.Sqrt(2 / Math.PI), GaussLegendre.ExpectNormal(Math.Abs), 1e-14);
        Assert.Equal(0.5, GaussLegendre.ExpectNormal(z => z > 0 ? 1 : 0), 1e-14);
        Assert.Equal(1 - Phi(0.7), GaussLegendre.ExpectNormal(z => z > 0.7 ? 1 : 0, 0.7), 1e-14);
    }

    [Fact]
    public void CustomActivationMatchesTheBuiltInOne()
    {
        var custom = Activation.Custom("my_tanh", Math.Tanh, z => 1 - Math.Tanh(z) * Math.Tanh(z));
        var tanh = Activation.Parse("tanh");
        Assert.Equal(tanh.PairExpectation(1.1, 0.4, 0.8), custom.PairExpectation(1.1, 0.4, 0.8), 1e-15);
        Assert.Equal(tanh.DerivativePairExpectation(1.1, 0.4, 0.8), custom.DerivativePairExpectation(1.1, 0.4, 0.8), 1e-15);
        var noDerivative = Activation.Custom("f", Math.Sin);
        Assert.Throws<BadInputException>(() => noDerivative.DerivativePairExpectation(1, 0.5, 1));
    }

    [Theory]
    [InlineData("leaky_relu(x)", "not a number")]
    [InlineData("monomial(2.5)", "integer")]
    [InlineData("relu(2)", "takes no argument")]
    [InlineData("softmax", "Allowed")]
    [InlineData("tanh(", "Malformed")]
    public void BadActivationNamesAreBadInput(string text, string message)
    {
        var e = Assert.Throws<BadInputException>(() => Activation.Parse(text));
        Assert.Contains(message, e.Message);
    }
}

/// <summary>Every quadrature activation's E[φφ] and E[φ′φ′] against Monte Carlo pairs (4 SE).</summary>
public class QuadratureMonteCarloTests
{
    [Theory]
    [MemberData(nameof(TestData.QuadratureActivations), MemberType = typeof(TestData))]
    public void QuadratureAgreesWithMonteCarloPairs(string name)
    {
        var act = Activation.Parse(name);
        double k11 = 1.3;
        double k12 = -0.4;
        double k22 = 0.8;
        var rng = new Rng(8);
        const int n = 400_000;
        var z = new double[2 * n];
        rng.FillGaussian(z);
        double c = k12 / Math.Sqrt(k11 * k22);
        double sc = Math.Sqrt(1 - c * c);
        var prod = new double[n];
        var dprod = new double[n];
        for (int i = 0; i < n; i++)
        {
            double u = Math.Sqrt(k11) * z[2 * i];
            double v = Math.Sqrt(k22) * (c * z[2 * i] + sc * z[2 * i + 1]);
            prod[i] = act.Apply(u) * act.Apply(v); dprod[i] = act.Derivative(u) * act.Derivative(v);
        }
        Assert.True(Math.Abs(Statistics.Mean(prod) - act.PairExpectation(k11, k12, k22)) <= 4 * Statistics.StandardError(prod));
        Assert.True(Math.Abs(Statistics.Mean(dprod) - act.DerivativePairExpectation(k11, k12, k22)) <= 4 * Statistics.StandardError(dprod));
    }

    [Theory]
    [InlineData("tanh", 0.7)]
    [InlineData("erf", 1.3)]
    [InlineData("gelu", 0.9)]
    [InlineData("relu", 1.1)]
    public void He4MomentIsTheSecondDerivativeOfTheSquaredMoment(string name, double k)
    {
        // ⟨φ²·He₄(z/√k)⟩ = 4k²·d²E[φ²]/dk² (Price's theorem twice): against a central second difference of E[φ²].
        var act = Activation.Parse(name);
        double h = 1e-3 * k;
        double second = (act.Moment(2, k + h) - 2 * act.Moment(2, k) + act.Moment(2, k - h)) / (h * h);
        double expected = 4 * k * k * second;
        Assert.True(Math.Abs(act.ExpectHe4(act.Apply, k) - expected) <= 1e-5 * (1 + Math.Abs(expected)),
            $"{name}: ⟨φ²He₄⟩ = {act.ExpectHe4(act.Apply, k)} vs 4k²g″ = {expected}");
    }
}
