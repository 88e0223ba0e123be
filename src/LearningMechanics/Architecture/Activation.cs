using System.Globalization;
using LearningMechanics.Numerics;

namespace LearningMechanics.Architecture;

/// <summary>
/// A pointwise nonlinearity φ with the Gaussian expectations the kernel recursions need: E[φ(u)φ(v)] (NNGP) and
/// E[φ′(u)φ′(v)] (NTK) for (u, v) ~ N(0, [[k11, k12], [k12, k22]]) (Lee et al. 2018; Jacot et al. 2018;
/// Roberts &amp; Yaida 2022, eqs. 4.118, 9.5).
/// Activations with closed forms override <see cref="PairExpectation"/> / <see cref="DerivativePairExpectation"/>;
/// every other one is integrated by 2-D Gauss–Hermite quadrature of order <see cref="QuadratureOrder"/>, whose error
/// <see cref="QuadratureError"/> estimates by comparing with a rule of 3/4 the order.
/// </summary>
public abstract class Activation
{
    /// <summary>Default quadrature order for activations without a closed form (tensor rule: order² evaluations).</summary>
    public const int DefaultQuadratureOrder = 128;

    public abstract string Name { get; }
    public abstract double Apply(double z);
    /// <summary>φ′(z) (one-sided where φ has a kink: ReLU′(0) = 0).</summary>
    public abstract double Derivative(double z);
    /// <summary>
    /// φ″(z), used by exact Hessian-vector products (Pearlmutter's R-operator). Zero almost everywhere for piecewise-linear φ.
    /// Built-in activations override it analytically; the default (user functions) is a central difference of φ′ with
    /// step 1e-4·max(1, |z|), accurate to ~1e-8 relative for smooth φ′.
    /// </summary>
    public virtual double SecondDerivative(double z)
    {
        RequireDifferentiable();
        double h = 1e-4 * Math.Max(1, Math.Abs(z));
        return (Derivative(z + h) - Derivative(z - h)) / (2 * h);
    }
    /// <summary>True when E[φφ] (and E[φ′φ′] where defined) have closed forms.</summary>
    public virtual bool HasClosedForm => false;
    /// <summary>True for φ(λz) = λφ(z), λ &gt; 0 (ReLU, leaky ReLU, abs, linear): the scale-invariant class of
    /// Roberts &amp; Yaida 2022, §5.2.</summary>
    public virtual bool IsScaleInvariant => false;
    /// <summary>False when φ′ is a delta function (step, sign): the NTK is undefined.</summary>
    public virtual bool IsDifferentiable => true;
    /// <summary>
    /// False when φ (or φ′) has a kink or jump at 0 (ELU, or a user function marked so): its expectations then use
    /// kink-aware Gauss–Legendre integration (<see cref="GaussLegendre.ExpectPairKinked"/>) instead of Gauss–Hermite,
    /// which converges only algebraically across a kink.
    /// </summary>
    public virtual bool IsSmooth => true;
    /// <summary>Quadrature order used by the default expectations; raise it for sharp activations or large variances.</summary>
    public int QuadratureOrder { get; init; } = DefaultQuadratureOrder;

    /// <summary>φ applied elementwise (vectorised where the activation allows).</summary>
    public virtual void Apply(ReadOnlySpan<double> z, Span<double> result)
    {
        for (int i = 0; i < z.Length; i++) result[i] = Apply(z[i]);
    }

    /// <summary>E[φ(u)φ(v)].</summary>
    public virtual double PairExpectation(double k11, double k12, double k22) =>
        IsSmooth ? Quadrature(k11, k12, k22, QuadratureOrder) : GaussLegendre.ExpectPairKinked(Apply, Apply, k11, k12, k22);

    /// <summary>E[φ′(u)φ′(v)], the NTK's "Σ̇" (Jacot et al. 2018; Roberts &amp; Yaida 2022, eq. 9.5).</summary>
    public virtual double DerivativePairExpectation(double k11, double k12, double k22)
    {
        RequireDifferentiable();
        return IsSmooth ? GaussHermite.Expect2(Derivative, Derivative, k11, k12, k22, QuadratureOrder)
            : GaussLegendre.ExpectPairKinked(Derivative, Derivative, k11, k12, k22);
    }

    /// <summary>(E[φφ], E[φ′φ′]) together: activations whose two closed forms share work (the angle for ReLU) override
    /// it.</summary>
    public virtual (double Value, double Derivative) PairAndDerivativeExpectation(double k11, double k12, double k22) =>
        (PairExpectation(k11, k12, k22), DerivativePairExpectation(k11, k12, k22));

    /// <summary>
    /// The activation's kernel step for a row of pairs sharing the first input (variance <paramref name="v1"/>): k_j ←
    /// E[φ(u)φ(v)] and, when <paramref name="t"/> is not empty (the NTK), t_j ← t_j·E[φ′(u)φ′(v)], with (u, v) of
    /// variances (v1, v2_j) and covariance k_j. Each pair is ordered by variance first, so that K(x, x′) and K(x′, x) are
    /// bit-identical (quadrature conditions on the first variable). Activations with a vectorised closed form override it.
    /// </summary>
    public virtual void KernelRow(double v1, ReadOnlySpan<double> v2, Span<double> k, Span<double> t)
    {
        for (int j = 0; j < k.Length; j++)
        {
            var (a, b) = v1 <= v2[j] ? (v1, v2[j]) : (v2[j], v1);
            if (t.IsEmpty) k[j] = PairExpectation(a, k[j], b);
            else
            {
                var (e, ed) = PairAndDerivativeExpectation(a, k[j], b);
                t[j] *= ed;
                k[j] = e;
            }
        }
    }

    /// <summary>E[φ(u)φ(v)] by Gauss–Hermite quadrature of the given order, whatever closed form exists.</summary>
    public double Quadrature(double k11, double k12, double k22, int order) => GaussHermite.Expect2(Apply, Apply, k11, k12, k22, order);

    /// <summary>E[φ′(u)φ′(v)] by Gauss–Hermite quadrature of the given order.</summary>
    public double DerivativeQuadrature(double k11, double k12, double k22, int order) =>
        GaussHermite.Expect2(Derivative, Derivative, k11, k12, k22, order);

    /// <summary>
    /// Error estimate of E[φφ] as computed: 0 for closed forms; for Gauss–Hermite |Q(q) − Q(3q/4)|, which bounds the
    /// error of Q(q) since the error falls fast with the order for smooth φ; for the kink-aware rule the difference
    /// between 12 and 8 points per panel.
    /// </summary>
    public double QuadratureError(double k11, double k12, double k22)
    {
        if (HasClosedForm) return 0;
        if (IsSmooth) return Math.Abs(Quadrature(k11, k12, k22, QuadratureOrder) - Quadrature(k11, k12, k22, QuadratureOrder * 3 / 4));
        return Math.Abs(PairExpectation(k11, k12, k22) - GaussLegendre.ExpectPairKinked(Apply, Apply, k11, k12, k22, 8));
    }

    /// <summary>E[φ(z)^p] for z ~ N(0, k): closed forms where overridden, otherwise <see cref="Expect"/>.</summary>
    public virtual double Moment(int p, double k) => Expect(z => Math.Pow(Apply(z), p), k);

    /// <summary>
    /// E[f(z)] for z ~ N(0, k) where f is built from φ and φ′: 1-D Gauss–Hermite of order 200 for smooth φ, the kink-aware
    /// Gauss–Legendre rule (split at 0) otherwise.
    /// </summary>
    public double Expect(Func<double, double> f, double k)
    {
        if (IsSmooth) return GaussHermite.Expect(f, k, 200);
        double s = Math.Sqrt(k);
        return GaussLegendre.ExpectNormal(z => f(s * z));
    }

    /// <summary>
    /// E[g(z)²·He₄(z/√k)] for z ~ N(0, k), He₄(u) = u⁴ − 6u² + 3: by Price's theorem twice, 4k²·d²E[g²]/dk², the second
    /// derivative the NLO metric and the NTK mean's 1/n shift need (Roberts &amp; Yaida 2022, eq. 5.111). 0 at k ≤ 0.
    /// </summary>
    public double ExpectHe4(Func<double, double> g, double k) => k > 0
        ? Expect(z =>
        {
            double r = z * z / k;
            double v = g(z);
            return v * v * (r * r - 6 * r + 3);
        }, k)
        : 0;

    /// <summary>
    /// E[φ(x)²φ(y)²] for (x, y) ~ N(0, [[k11, k12], [k12, k22]]) by the kink-aware pair rule: the correlation of two
    /// layers' φ² in a residual network's memory term (docs/notes/residual-vertex.md). Activations with a closed form
    /// override it; the quadrature stays their cross-check (ActivationTests).
    /// </summary>
    public virtual double ExpectSquaredPair(double k11, double k12, double k22)
    {
        double Square(double z)
        {
            double v = Apply(z);
            return v * v;
        }
        return GaussLegendre.ExpectPairKinked(Square, Square, k11, k12, k22);
    }

    protected void RequireDifferentiable()
    {
        if (!IsDifferentiable)
            throw new BadInputException($"Activation '{Name}' has no derivative (φ′ is a delta function), so its NTK is undefined; " +
                "use it for NNGP kernels only.");
    }

    public override string ToString() => Name;

    /// <summary>The activations known by name. Parameterised ones take an argument: leaky_relu(0.1), monomial(3).</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["relu", "leaky_relu(α)", "abs", "erf", "tanh", "sigmoid", "softplus", "silu", "gelu", "elu", "sin", "cos",
         "linear", "sign", "step", "monomial(p)", "poly(a0,a1,…)"];

    /// <summary>Looks an activation up by name; unknown names throw with the allowed list.</summary>
    public static Activation Parse(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        string name = t;
        string arg = "";
        int open = t.IndexOf('(');
        if (open >= 0)
        {
            if (!t.EndsWith(')')) throw new BadInputException($"Malformed activation '{text}': expected name(argument).");
            name = t[..open].Trim(); arg = t[(open + 1)..^1].Trim();
        }
        double Arg(double fallback)
        {
            if (arg.Length == 0) return fallback;
            return double.TryParse(arg, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
                ? v : throw new BadInputException($"Activation '{text}': argument '{arg}' is not a number.");
        }
        Activation act = name switch
        {
            "relu" => new Relu(),
            "leaky_relu" or "leakyrelu" => new LeakyRelu(Arg(0.01)),
            "abs" => new Abs(),
            "erf" => new Erf(),
            "tanh" => new Tanh(),
            "sigmoid" => new Sigmoid(),
            "softplus" => new Softplus(),
            "silu" or "swish" => new Silu(),
            "gelu" => new Gelu(),
            "elu" => new Elu(),
            "sin" => new Sin(),
            "cos" => new Cos(),
            "linear" or "identity" => new Linear(),
            "sign" => new Sign(),
            "step" or "heaviside" => new Step(),
            "poly" or "polynomial" => new Polynomial(arg.Split(',').Select(c =>
                double.TryParse(c.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
                    ? v : throw new BadInputException($"Activation '{text}': coefficient '{c.Trim()}' is not a number.")).ToArray()),
            "monomial" or "pow" => new Monomial(Arg(double.NaN) is var p && p == Math.Floor(p) && p is >= 1 and <= 12 ? (int)p
                : throw new BadInputException($"Activation '{text}': monomial(p) needs an integer p in 1…12.")),
            _ => throw new BadInputException($"Unknown activation '{text}'. Allowed: {string.Join(", ", Names)}."),
        };
        if (arg.Length > 0 && act is not (LeakyRelu or Polynomial))
            throw new BadInputException($"Activation '{name}' takes no argument (got '{text}').");
        return act;
    }

    /// <summary>A user-supplied activation with its derivative; its kernels are computed by quadrature.</summary>
    public static Activation Custom(string name, Func<double, double> phi, Func<double, double>? derivative = null, bool smooth = true) =>
        new CustomActivation(name, phi, derivative, smooth);
}
