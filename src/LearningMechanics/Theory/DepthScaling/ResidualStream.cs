using LearningMechanics.Architecture;

namespace LearningMechanics.Theory.DepthScaling;

/// <summary>
/// The residual stream h_{l+1} = h_l + L^{−α}·W_l φ(h_l) of a depth-L residual MLP at initialisation, W_l entries of variance
/// σ_w²/n, φ scale-invariant (ReLU, leaky ReLU, linear), so that E[φ(z)²] = c·E[z²] with c = E[φ(z)²] at unit variance
/// (½ for ReLU). The branch is independent of h_l with mean zero, so the stream's second moment grows by a fixed factor per
/// block: q_{l+1} = q_l·(1 + σ_w²c/L^{2α}) (Yang et al. 2023, Tensor Programs VI; Bordelon et al. 2024).
/// α = 0 (no branch scaling) grows exponentially in L; α = ½ (Depth-μP) tends to e^{σ_w²c}; α = 1 (CompleteP, Dey et al. 2025)
/// to 1. The quadratic variation Σ_l ‖h_{l+1} − h_l‖²/‖h_0‖² then has the expectation Π_L − 1: Θ(1) at α = ½ (the stream
/// diffuses like an SDE), Θ(1/L) at α = 1 (it moves smoothly like an ODE; Bordelon et al. 2024; Dey et al. 2025).
/// </summary>
public static class ResidualStream
{
    /// <summary>The branch multiplier L^{−α}.</summary>
    public static double BranchScale(int depth, double alpha) => Math.Pow(depth, -alpha);

    /// <summary>c = E[φ(z)²]/E[z²], the same at every variance for a scale-invariant φ; other activations are refused.</summary>
    public static double SecondMomentRatio(Activation act) => act.IsScaleInvariant
        ? act.Moment(2, 1)
        : throw new BadInputException($"Activation '{act.Name}': the residual stream's product formula needs a scale-invariant " +
            "activation (relu, leaky_relu(a), linear).");

    /// <summary>Π_L = E‖h_L‖²/E‖h_0‖² = (1 + σ_w²c·L^{−2α})^L after L blocks.</summary>
    public static double VarianceGrowth(int depth, double alpha, double sw2, Activation act) =>
        Math.Pow(1 + sw2 * SecondMomentRatio(act) * Math.Pow(depth, -2 * alpha), depth);

    /// <summary>E[Σ_l ‖h_{l+1} − h_l‖²]/E‖h_0‖² = Π_L − 1 (the branches are uncorrelated with the stream they are added
    /// to).</summary>
    public static double QuadraticVariation(int depth, double alpha, double sw2, Activation act) =>
        double.ExpM1(depth * Math.Log(1 + sw2 * SecondMomentRatio(act) * Math.Pow(depth, -2 * alpha)));
}
