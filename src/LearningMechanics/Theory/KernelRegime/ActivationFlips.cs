using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Theory.KernelRegime;

/// <summary>
/// How the empirical NTK of a two-layer ReLU network moves when its parameters move a little: a smooth part and a part
/// from activation-pattern (gate) flips. Derived in lmech (docs/notes/relu-flips.md) for the lazy regime of Chizat et al.
/// 2019; the kernels are Jacot et al. 2018's. With z_i(x) = m_W·w_i·x + m_b·b_i, φ = relu, g_i = 1[z_i &gt; 0], readout
/// weights v_i with multiplier √(σ_v²/n) and T¹(x, x′) = m_W²x·x′ + m_b² the first layer's tangent kernel,
/// <code>Θ̂(x, x′) = (σ_v²/n)·Σ_i [φ(z_i)φ(z_i′) + v_i²·g_i g_i′·T¹(x, x′)] + m_o².</code>
/// The first term is continuous in the parameters; the second jumps by ±(σ_v²/n)·v_i²·T¹ when unit i's gate flips at x
/// (for the x′ where g_i′ = 1). Split ΔΘ̂ = S + J, S the change with every gate frozen at its initial state (smooth), J the
/// jumps. Derivation, for preactivation shifts δ_i(x) small against √q_x (q_x = Var z_i(x)):
/// <list type="bullet">
/// <item>a unit flips at x when z_i(x) lies between 0 and −δ_i(x): with δ independent of z near 0 and z ~ N(0, q_x),
/// P(flip) = p_x(0)·E|δ| = E|δ|/√(2π·q_x) (<see cref="FlipProbability"/>; exact to O(δ³) for Gaussian δ);</item>
/// <item>a flip's sign is that of δ_i, which in gradient training carries the sign of v_i, and a unit's flips are
/// independent of the others': the jumps add like a random walk and, given that a unit flips at x, its gate at x′ is on
/// with probability ½, so E‖J‖²_F = (σ_v⁴/n)·Σ_x r(x)·Σ_x′ T¹(x, x′)² with r(x) = (1/n)Σ_i v_i⁴·P_i(flip at x)
/// (<see cref="FlipMovementSquared"/>), up to O(δ) relative corrections (both gates of a pair flipping, coherent means);</item>
/// <item>‖J‖ therefore grows as √δ while ‖S‖ grows as δ, and the two are uncorrelated to leading order:
/// ‖ΔΘ̂‖² ≈ ‖S‖² + ‖J‖².</item>
/// </list>
/// Scaling in the lazy regime (centred model α(f − f₀) trained with learning rate η/α²): every parameter moves by
/// O(1/(α√n)). The smooth first-order change is a sum over units of terms odd in v_i, a random walk of n terms of size
/// 1/(α·n^{3/2}), so ‖S‖/‖Θ̂₀‖ ≈ A/α with A ∝ 1/n (its next order, even in v, is ∝ 1/(α²n)); the flip part is
/// ‖J‖/‖Θ̂₀‖ ≈ B/√α with B ∝ n^{−3/4}. The movement √(A²/α² + B²/α) has the local slope −(1 + ρ/2)/(1 + ρ),
/// ρ = αB²/A², from −1 (smooth) to −½ (flips) around α_c = A²/B² ∝ n^{−1/2}: wider networks reach the flip regime at
/// smaller α.
/// </summary>
public static class ActivationFlips
{
    /// <summary>α-exponent of the smooth part: ‖S‖/‖Θ̂₀‖ ∝ α^{−1}.</summary>
    public const double SmoothAlphaExponent = -1;
    /// <summary>α-exponent of the flip part: ‖J‖/‖Θ̂₀‖ ∝ α^{−1/2}.</summary>
    public const double FlipAlphaExponent = -0.5;
    /// <summary>Width exponent of the smooth part at fixed α: A ∝ n^{−1}.</summary>
    public const double SmoothWidthExponent = -1;
    /// <summary>Width exponent of the flip part at fixed α: B ∝ n^{−3/4}.</summary>
    public const double FlipWidthExponent = -0.75;

    /// <summary>Density at 0 of a preactivation z ~ N(0, q): 1/√(2πq).</summary>
    public static double DensityAtZero(double preactivationVariance)
    {
        if (!(preactivationVariance > 0) || !double.IsFinite(preactivationVariance))
            throw new BadInputException($"Preactivation variance {preactivationVariance} must be positive and finite.");
        return 1 / Math.Sqrt(2 * Math.PI * preactivationVariance);
    }

    /// <summary>
    /// Probability that a unit with preactivation z ~ N(0, q) changes sign when it is shifted by δ, independent of z:
    /// p(0)·E|δ| to first order in δ/√q (for Gaussian δ of variance σ² the exact value is arctan(σ/√q)/π).
    /// </summary>
    public static double FlipProbability(double preactivationVariance, double meanAbsoluteShift)
    {
        if (!(meanAbsoluteShift >= 0) || !double.IsFinite(meanAbsoluteShift))
            throw new BadInputException($"Mean absolute shift {meanAbsoluteShift} must be finite and ≥ 0.");
        return DensityAtZero(preactivationVariance) * meanAbsoluteShift;
    }

    /// <summary>
    /// Expected squared Frobenius norm of the gate-flip part J of a two-layer ReLU NTK over P inputs:
    /// E‖J‖² = (σ_v⁴/n)·Σ_x r(x)·Σ_x′ T¹(x, x′)², where <paramref name="flipRates"/>[x] = r(x) = (1/n)Σ_i
    /// v_i⁴·P_i(flip at x) (v_i the stored readout weights, N(0, 1) at initialisation) and <paramref name="tangent"/> is T¹ (P × P).
    /// </summary>
    /// <param name="readoutVariance">σ_v²: the readout multiplier squared times the width (α²σ_v² for an output scale α).</param>
    public static double FlipMovementSquared(Matrix tangent, ReadOnlySpan<double> flipRates, double readoutVariance, int width)
    {
        int p = tangent.Rows;
        if (tangent.Cols != p) throw new BadInputException($"The tangent kernel must be square, got {p}×{tangent.Cols}.");
        if (flipRates.Length != p) throw new BadInputException($"{flipRates.Length} flip rates for {p} inputs.");
        if (width < 1) throw new BadInputException($"Width {width} must be ≥ 1.");
        double sum = 0;
        for (int x = 0; x < p; x++)
        {
            if (!(flipRates[x] >= 0)) throw new BadInputException($"Flip rate {flipRates[x]} at input {x} must be ≥ 0.");
            double row = 0;
            foreach (var t in tangent.Row(x)) row += t * t;
            sum += flipRates[x] * row;
        }
        return readoutVariance * readoutVariance / width * sum;
    }

    /// <summary>
    /// E‖J‖² when every stored first-layer parameter (weights N(0, 1), NTK parameterisation, and biases) is shifted by an
    /// independent N(0, ε²): the preactivation shifts have covariance ε²·T¹, so P(flip at x) = ε/π for every x and, with
    /// E[v⁴] = 3, E‖J‖² = 3σ_v⁴ε‖T¹‖²_F/(πn) to first order in ε.
    /// </summary>
    public static double IsotropicFlipMovementSquared(Matrix tangent, double readoutVariance, int width, double displacement)
    {
        CheckDisplacement(displacement);
        var rates = Enumerable.Repeat(3 * displacement / Math.PI, tangent.Rows).ToArray();
        return FlipMovementSquared(tangent, rates, readoutVariance, width);
    }

    /// <summary>
    /// E‖S‖² for the same isotropic displacement: the first-order random part
    /// (2σ_v⁴ε²/n)·Σ_{x,x′}[q_x q_x′·H(ρ) + T¹(x, x′)·κ₁(x, x′)] plus the square of its coherent mean
    /// σ_v²ε²·κ₁(x, x′) (the relu·relu term grows by the factor 1 + ε²; the frozen gates keep their term's mean). κ₁ is the
    /// degree-1 arc-cosine kernel of T¹ (Cho &amp; Saul 2009), q_x = T¹(x, x), ρ the correlation and H(ρ) = E[g(u)·relu(v)²]/q_v
    /// (<see cref="GateSquareExpectation"/>).
    /// </summary>
    public static double IsotropicSmoothMovementSquared(Matrix tangent, double readoutVariance, int width, double displacement)
    {
        CheckDisplacement(displacement);
        int p = tangent.Rows;
        if (tangent.Cols != p) throw new BadInputException($"The tangent kernel must be square, got {p}×{tangent.Cols}.");
        if (width < 1) throw new BadInputException($"Width {width} must be ≥ 1.");
        double random = 0, coherent = 0, e2 = displacement * displacement;
        for (int x = 0; x < p; x++)
            for (int y = 0; y < p; y++)
            {
                double qx = tangent[x, x], qy = tangent[y, y], k = tangent[x, y];
                double rho = Math.Clamp(k / Math.Sqrt(qx * qy), -1, 1);
                double kappa1 = ArcCosine.Degree1(qx, k, qy);
                random += qx * qy * GateSquareExpectation(rho) + k * kappa1;
                coherent += kappa1 * kappa1;
            }
        double s2 = readoutVariance * readoutVariance;
        return 2 * s2 * e2 / width * random + s2 * e2 * e2 * coherent;
    }

    /// <summary>
    /// H(ρ) = E[1(u &gt; 0)·relu(v)²] for standard normals with correlation ρ: ((π − θ) + sin θ cos θ)/(2π), θ = arccos ρ
    /// (from ∫₀^∞ v²φ(v)Φ(κv)dv = ¼ + (arctan κ + κ/(1 + κ²))/(2π), κ = ρ/√(1 − ρ²)); ½ at ρ = 1, 0 at ρ = −1.
    /// </summary>
    internal static double GateSquareExpectation(double rho)
    {
        double theta = Math.Acos(Math.Clamp(rho, -1, 1));
        return (Math.PI - theta + Math.Sin(theta) * Math.Cos(theta)) / (2 * Math.PI);
    }

    /// <summary>The two-part law ‖ΔΘ̂‖/‖Θ̂₀‖ = √(A²/α² + B²/α): smooth amplitude A = α·‖S‖, flip amplitude B =
    /// √α·‖J‖.</summary>
    public static double Movement(double alpha, double smoothAmplitude, double flipAmplitude)
    {
        CheckLaw(alpha, smoothAmplitude, flipAmplitude);
        return Math.Sqrt(smoothAmplitude * smoothAmplitude / (alpha * alpha) + flipAmplitude * flipAmplitude / alpha);
    }

    /// <summary>Local log–log slope d ln M/d ln α of <see cref="Movement"/>: −(1 + ρ/2)/(1 + ρ), ρ = αB²/A² (−1 …
    /// −½).</summary>
    public static double LocalSlope(double alpha, double smoothAmplitude, double flipAmplitude)
    {
        CheckLaw(alpha, smoothAmplitude, flipAmplitude);
        if (smoothAmplitude == 0) return FlipAlphaExponent;
        double r = alpha * flipAmplitude * flipAmplitude / (smoothAmplitude * smoothAmplitude);
        return -(1 + r / 2) / (1 + r);
    }

    /// <summary>The crossover α_c = A²/B² where both parts are equal (local slope −¾); flips dominate above it.</summary>
    public static double Crossover(double smoothAmplitude, double flipAmplitude)
    {
        CheckLaw(1, smoothAmplitude, flipAmplitude);
        if (!(flipAmplitude > 0)) throw new BadInputException("Without a flip part there is no crossover.");
        return smoothAmplitude * smoothAmplitude / (flipAmplitude * flipAmplitude);
    }

    /// <summary>
    /// α_c at another width: A ∝ 1/n and B ∝ n^{−3/4} give α_c ∝ n^{−1/2}, so α_c(n′) = α_c(n)·√(n/n′).
    /// </summary>
    public static double CrossoverAtWidth(double crossover, double width, double newWidth)
    {
        if (!(crossover > 0) || !(width > 0) || !(newWidth > 0))
            throw new BadInputException($"Crossover {crossover} and widths {width}, {newWidth} must be positive.");
        return crossover * Math.Pow(newWidth / width, 2 * (SmoothWidthExponent - FlipWidthExponent));
    }

    private static void CheckDisplacement(double displacement)
    {
        if (!(displacement >= 0) || !double.IsFinite(displacement))
            throw new BadInputException($"Displacement {displacement} must be finite and ≥ 0.");
    }

    private static void CheckLaw(double alpha, double smoothAmplitude, double flipAmplitude)
    {
        if (!(alpha > 0) || !double.IsFinite(alpha)) throw new BadInputException($"Output scale α = {alpha} must be positive.");
        if (!(smoothAmplitude >= 0) || !(flipAmplitude >= 0))
            throw new BadInputException($"Amplitudes A = {smoothAmplitude}, B = {flipAmplitude} must be ≥ 0.");
    }
}
