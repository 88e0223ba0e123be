using LearningMechanics.Numerics;

namespace LearningMechanics.Theory.SolvableModels;

/// <summary>
/// Learning dynamics of one singular mode of a deep linear network y = W_D⋯W₁x trained by gradient flow
/// τ·dW_l/dt = −∂L/∂W_l on L = ½·E‖y − W_D⋯W₁x‖² with whitened inputs (E[xxᵀ] = I) and input–output
/// correlation Σ^{yx} = Σ_α s_α u_α v_αᵀ (Saxe et al. 2014). From a balanced initialisation aligned with the modes,
/// the mode strength u_α = u_αᵀW_D⋯W₁v_α obeys τ·du/dt = D·u^{2−2/D}·(s − u) on its own (Saxe et al. 2014, §2 and the
/// deeper networks of §3; Arora et al. 2018 for the general end-to-end flow). Times are in units of τ = 1/η, η the learning rate of L.
/// </summary>
public static class DeepLinearModes
{
    /// <summary>
    /// The two-layer solution u(t) = s·e^{2st}/(e^{2st} − 1 + s/u₀) (Saxe et al. 2014, eq. 6), written as
    /// s/(1 + (s/u₀ − 1)·e^{−2st}) so that it does not overflow; t in units of τ.
    /// </summary>
    public static double TwoLayerStrength(double s, double u0, double t)
    {
        CheckMode(s, u0);
        return s / (1 + (s / u0 - 1) * Math.Exp(-2 * s * t));
    }

    /// <summary>Time at which the two-layer mode reaches s/2: t½ = ln(s/u₀ − 1)/(2s) (from eq. 6 of Saxe et al. 2014).</summary>
    public static double TwoLayerHalfTime(double s, double u0)
    {
        CheckMode(s, u0);
        return Math.Log(s / u0 - 1) / (2 * s);
    }

    /// <summary>du/dt = D·u^{2−2/D}·(s − u) in units of 1/τ (Saxe et al. 2014, §3).</summary>
    public static double Rate(int depth, double s, double u) => depth * Math.Pow(u, 2 - 2.0 / depth) * (s - u);

    /// <summary>
    /// Time to go from u₀ to u₁ (u₀ ≤ u₁ &lt; s) at depth D: t = ∫ du/(D·u^{2−2/D}(s − u)), evaluated in the logit
    /// w = ln(u/(s − u)), where dt = u^{2/D−1}/(D·s)·dw is smooth and bounded up to u → s, by Gauss–Legendre on 16 panels of
    /// 24 points. At depth 2 the integrand is constant and t = (w₁ − w₀)/(2s), the closed form (a unit test).
    /// </summary>
    public static double Time(int depth, double s, double u0, double u1)
    {
        CheckMode(s, u0);
        if (depth < 2) throw new ArgumentOutOfRangeException(nameof(depth), depth, "Depth must be ≥ 2 (one layer has no plateau).");
        if (!(u1 >= u0 && u1 < s)) throw new ArgumentOutOfRangeException(nameof(u1), u1, $"Need u₀ = {u0} ≤ u₁ < s = {s}.");
        var (nodes, weights) = GaussLegendre.Rule(24);
        const int panels = 16;
        double a = Math.Log(u0 / (s - u0));
        double h = (Math.Log(u1 / (s - u1)) - a) / panels;
        double sum = 0;
        for (int p = 0; p < panels; p++)
            for (int i = 0; i < nodes.Length; i++)
            {
                double u = s / (1 + Math.Exp(-(a + h * (p + 0.5 * (nodes[i] + 1)))));
                sum += 0.5 * h * weights[i] * Math.Pow(u, 2.0 / depth - 1);
            }
        return sum / (depth * s);
    }

    /// <summary>Time at which a depth-D mode reaches s/2 from u₀.</summary>
    public static double HalfTime(int depth, double s, double u0) => Time(depth, s, u0, s / 2);

    /// <summary>
    /// Leading small-u₀ behaviour of the plateau at depth D &gt; 2: t½ ≈ u₀^{−(1−2/D)}/(s·(D − 2)), so log t½ against
    /// log u₀ has slope −(1 − 2/D) (the integral's lower end; at D = 2 the plateau grows only as ln(1/u₀)/(2s)).
    /// </summary>
    public static double PlateauExponent(int depth) =>
        depth >= 2 ? -(1 - 2.0 / depth) : throw new ArgumentOutOfRangeException(nameof(depth), depth, "Depth must be ≥ 2.");

    /// <summary>Mode strength at time t from u₀ at depth D: the inverse of <see cref="Time"/> (Brent in ln u).</summary>
    public static double Strength(int depth, double s, double u0, double t)
    {
        if (depth == 2) return TwoLayerStrength(s, u0, t);
        if (t <= 0) return u0;
        double top = s * (1 - 1e-13);
        if (Time(depth, s, u0, top) <= t) return top;
        double logU = RootFinding.Brent(x => Time(depth, s, u0, Math.Exp(x)) - t, Math.Log(u0), Math.Log(top), 1e-13);
        return Math.Exp(logU);
    }

    /// <summary>
    /// One gradient-descent step of the same mode (Euler step of the per-layer flow with the layers' common strength
    /// a = u^{1/D}): a ← a + η·a^{D−1}·(s − a^D), returned as u = a^D. The difference from the flow is the discretisation error of
    /// a network trained with learning rate η (in units of the learning rate of L).
    /// </summary>
    public static double GdStep(int depth, double s, double u, double eta)
    {
        double a = Math.Pow(u, 1.0 / depth);
        a += eta * Math.Pow(a, depth - 1) * (s - u);
        return Math.Pow(a, depth);
    }

    /// <summary>
    /// Time (steps·η, in units of τ) at which the mode's gradient-descent recursion (<see cref="GdStep"/>) first reaches s/2,
    /// interpolated linearly between steps; NaN if not within 10⁸ steps.
    /// </summary>
    public static double GdHalfTime(int depth, double s, double u0, double eta)
    {
        CheckMode(s, u0);
        double prev = u0;
        for (int k = 1; k < 100_000_000; k++)
        {
            double next = GdStep(depth, s, prev, eta);
            if (next >= s / 2) return (k - 1 + (s / 2 - prev) / (next - prev)) * eta;
            prev = next;
        }
        return double.NaN;
    }

    private static void CheckMode(double s, double u0)
    {
        if (!(s > 0)) throw new ArgumentOutOfRangeException(nameof(s), s, "The singular value s must be > 0.");
        if (!(u0 > 0 && u0 < s)) throw new ArgumentOutOfRangeException(nameof(u0), u0, $"Need 0 < u₀ < s = {s}.");
    }
}
