using LearningMechanics.Architecture;

namespace LearningMechanics.Theory.KernelRegime;

/// <summary>
/// The learning-rate phases of full-batch GD on the squared loss (Lewkowycz et al. 2020), as multiples of the linearised
/// threshold η_crit = N/λ_max(Θ̂₀) of this project's convention (MSE = (1/N)Σ(f − y)², θ ← θ − η∇MSE, Θ̂₀ = JJᵀ):
/// lazy for η &lt; η_crit, catapult for η_crit &lt; η &lt; η_max, divergent above.
/// <para>
/// Sources. Lewkowycz et al. 2020, §2 (uv model): f = n^{−1/2}vᵀu, one sample x = 1, y = 0, loss L = f²/2, θ ← θ − η∇L,
/// NTK λ = ‖∇f‖² = (‖u‖² + ‖v‖²)/n. One GD step is exactly f_{t+1} = f_t(1 − ηλ_t + η²f_t²/n) and
/// λ_{t+1} = λ_t + (ηf_t²/n)(ηλ_t − 4): lazy for η &lt; 2/λ₀; for 2/λ₀ &lt; η &lt; 4/λ₀ the loss grows while λ falls
/// until ηλ &lt; 2 (the catapult); above 4/λ₀ both grow (η_max = 4/λ₀). Zhu et al. 2022, Theorem 1, prove the same window
/// [(2 + ε)/λ₀, (4 − ε)/λ₀], ε = Θ(log n/√n), for the quadratic model of a two-layer ReLU network with L = ½Σ(f − y)²
/// and K = ∇F∇Fᵀ. For deep ReLU networks Lewkowycz et al. report η_max ≈ 12/λ₀ (an empirical value, not derived).
/// </para>
/// <para>
/// Conversion. For L = (c/2)Σ_α(f_α − y_α)² the linearised residual obeys r ← (I − ηc·JJᵀ)r, stable iff
/// η &lt; 2/(c·λ_max(JJᵀ)); each paper's η_crit = 2/λ₀ is this threshold in its own normalisation (λ₀ = c·λ_max(JJᵀ)).
/// Scaling the loss by a constant scales every learning-rate threshold by its inverse, so the ratios carry over:
/// η_max/η_crit = (4/λ₀)/(2/λ₀) = 2 (uv model; quadratic model of two-layer ReLU nets) and ≈ (12/λ₀)/(2/λ₀) = 6 (deep ReLU
/// networks). Here c = 2/N, so η_crit = N/λ_max(Θ̂₀) and η_max = 2N/λ_max(Θ̂₀) (uv), ≈ 6N/λ_max(Θ̂₀) (ReLU). Directly in
/// this convention (N = 1, y = 0, loss f², gradient 2f∇f, i.e. η → 2η in the map above): λ_{t+1} = λ_t + (2ηf_t²/n)(2ηλ_t −
/// 4), so λ falls during the blow-up iff η &lt; 2/λ₀ = 2η_crit.
/// </para>
/// These are large-width, single-direction statements: at width n the window shrinks by O(log n/√n); when the top NTK
/// eigenvalues are close the catapult runs in several eigendirections (Zhu et al. 2022, Theorem 3), which moves a finite
/// data set's threshold (the uv model on 32 points of the 16-d sphere diverges at ≈ 2.2·η_crit for widths 512–4096); and
/// a run of T steps must finish its catapult within T steps to count as converged.
/// </summary>
public static class CatapultPhase
{
    /// <summary>η/η_crit at the upper edge of the lazy phase: the linearised model's own threshold.</summary>
    public const double LazyEdge = 1;

    /// <summary>η_max/η_crit = 2 of the uv model (Lewkowycz et al. 2020: 4/λ₀ over 2/λ₀; Zhu et al. 2022, Theorem 1).</summary>
    public const double UvModelMaximum = 2;

    /// <summary>η_max/η_crit ≈ 6 reported for deep ReLU networks (Lewkowycz et al. 2020: ≈ 12/λ₀ over 2/λ₀;
    /// empirical).</summary>
    public const double ReluMaximum = 6;

    /// <summary>
    /// η_crit = N/λ_max(Θ̂₀) for <paramref name="samples"/> = N training points and the top eigenvalue of the (unnormalised)
    /// NTK Θ̂₀ = JJᵀ on them: GD on the linearised MSE converges iff η &lt; η_crit.
    /// </summary>
    public static double LinearThreshold(int samples, double lambdaMax)
    {
        if (samples < 1) throw new BadInputException($"Number of samples {samples} must be ≥ 1.");
        if (!(lambdaMax > 0) || !double.IsFinite(lambdaMax))
            throw new BadInputException($"λ_max = {lambdaMax} must be a positive finite number.");
        return samples / lambdaMax;
    }

    /// <summary>
    /// One GD step of the uv model in this project's convention (loss (f − y)² on one sample with y = 0): f = c·vᵀUx is
    /// bilinear, λ = ‖∇f‖² and κ = c²‖x‖² (κ = 1/n for Lewkowycz et al.'s f = n^{−1/2}vᵀu, x = 1). Exactly
    /// f' = f(1 − 2ηλ + 4η²κf²) and λ' = λ + 2ηκf²(2ηλ − 4): λ falls during the blow-up iff η &lt; 2/λ = 2η_crit.
    /// </summary>
    public static (double F, double Lambda) UvStep(double f, double lambda, double eta, double kappa) =>
        (f * (1 - 2 * eta * lambda + 4 * eta * eta * kappa * f * f), lambda + 2 * eta * kappa * f * f * (2 * eta * lambda - 4));

    /// <summary>
    /// The literature's η_max/η_crit for networks with activation <paramref name="phi"/>: <see cref="ReluMaximum"/> for ReLU,
    /// <see cref="UvModelMaximum"/> for smooth φ (the uv model's value, the only derived one), null where no value is stated
    /// (other kinked activations).
    /// </summary>
    public static double? MaximumRatio(Activation phi) =>
        phi is Relu ? ReluMaximum : phi.IsSmooth ? UvModelMaximum : null;
}
