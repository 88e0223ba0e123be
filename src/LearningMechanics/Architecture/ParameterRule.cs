namespace LearningMechanics.Architecture;

/// <summary>The role of a parameter tensor in the width scaling of an abc-parameterisation.</summary>
public enum ParameterRole { InputWeight, HiddenWeight, ReadoutWeight, HiddenBias, ReadoutBias }

/// <summary>
/// How one stored parameter tensor w enters the network and is trained (Yang &amp; Hu 2021, Tensor Programs IV, abc form;
/// Yang et al. 2022 for μP's Adam factors): the forward pass uses <see cref="Multiplier"/>·w, w is
/// drawn N(0, <see cref="InitStd"/>²), and an optimiser step on w uses the global learning rate times
/// <see cref="SgdFactor"/> (GD, SGD, momentum) or <see cref="AdamFactor"/> (Adam). With n the width and σ_w, σ_b the
/// layer's scales (d = input dimension, k = fan-in of the layer):
/// <list type="table">
/// <item><term>sp</term><description>multiplier 1, w ~ N(0, σ_w²/k), bias N(0, σ_b²), factors 1 (PyTorch's plain W·x + b).
/// </description></item>
/// <item><term>ntk</term><description>multiplier σ_w/√k (bias σ_b), w ~ N(0, 1), factors 1
/// (Roberts &amp; Yaida 2022, eq. 2.19).</description></item>
/// <item><term>mup</term><description>input W = σ_w√(n/d)·w, w ~ N(0, 1/n); hidden w ~ N(0, σ_w²/n), multiplier 1; readout
/// W = w/√n, w ~ N(0, σ_w²/n) (so effective variance σ_w²/n²); hidden biases √n·w, w ~ N(0, σ_b²/n); readout bias plain.
/// SGD factors 1 (c = 0); Adam factors 1/√n (input, hidden bias, readout) and 1/n (hidden) so that every effective update is
/// Θ(1) per coordinate as in Tensor Programs V (Yang et al. 2022), Table 3.</description></item>
/// <item><term>mf</term><description>the mean-field form of μP (equal under the abc symmetry a → a + θ, b → b − θ, c → c − 2θ
/// with θ = ½): ntk multipliers except the readout's σ_w/n, w ~ N(0, 1), SGD factors n for every tensor but the readout bias;
/// Adam factors 1 except 1/√n for hidden weights.</description></item>
/// </list>
/// A zero-initialised readout (μP's recommended option) sets the readout's InitStd to 0.
/// <para>
/// μP with a base width n₀ (<see cref="NetworkSpec.BaseWidth"/>, the mup package's base shapes): Tensor Programs V, Table 3,
/// with every fan-in or fan-out that scales replaced by the width multiplier m = n/n₀, so that μP <i>is</i> SP at n = n₀ and
/// hyperparameters tuned there carry over. Multipliers 1 and SP's initialisation except the readout, w ~ N(0, σ_w²/(k·m));
/// SGD factors m (input weights, hidden biases), 1 (hidden weights, readout bias), 1/m (readout weights); Adam factors 1
/// (input weights, biases) and 1/m (hidden and readout weights).
/// </para>
/// <para>
/// <see cref="AdamEpsilonFactor"/>: Adam's ε must scale with the layer's gradients, or at large width it swamps √v̂ and the
/// update underflows (Everett et al. 2024). The factor is the width scaling of the stored tensor's gradient,
/// n^{−a}·n^{−γ}, with a the tensor's multiplier exponent and γ the exponent of ∂L/∂W for the effective weight, common
/// to a class of equivalent parameterisations by power counting: in the kernel class (sp, ntk) the backward signal
/// reaching a hidden layer is O(n^{−½}), so γ = ½ for input and hidden tensors and 0 for the readout; in the μP class
/// (mup, mf) it is O(n^{−1}), so γ = 1 and 0. Hence sp: n^{−½} (input, hidden, hidden bias), 1 (readout); ntk: n^{−½}
/// (input, hidden bias, readout), n^{−1} (hidden); mup: n^{−½} (input, hidden bias, readout), n^{−1} (hidden); mf: n^{−1}
/// (input, hidden bias, readout), n^{−3/2} (hidden); readout biases 1. With a base width: n₀^{−½}/m for input, hidden and
/// hidden bias, 1 for the readout, which is sp's at m = 1. Under the abc symmetry the stored gradients and these factors
/// scale alike, so two equivalent forms (mup and mf; sp and ntk share γ but are not equivalent) train identically with any ε
/// (a unit test). The power counting is at initialisation: with a zero readout, the μP signal is O(1/n) from the first step. Used when
/// <c>OptimizerSettings.PerLayerEpsilon</c> is set; ε is then the value for a width-1 layer.
/// </para>
/// </summary>
public readonly record struct ParameterRule(double Multiplier, double InitStd, double SgdFactor, double AdamFactor,
    double AdamEpsilonFactor = 1)
{
    /// <summary>The rule for a tensor of <paramref name="role"/> in a layer with the given fan-in and fan-out.</summary>
    /// <param name="width">n: the hidden width the scaling refers to (fan-out for the input layer, fan-in otherwise).</param>
    /// <param name="baseWidth">μP only: the base width n₀ at which μP equals SP (null: the form without one, above).</param>
    public static ParameterRule For(Parameterization p, ParameterRole role, int fanIn, double width, double sw2, double sb2,
        double? baseWidth = null)
    {
        if (baseWidth is { } n0 && p == Parameterization.MuP) return MuPFromBase(role, fanIn, width / n0, n0, sw2, sb2);
        double sw = Math.Sqrt(sw2);
        double sb = Math.Sqrt(sb2);
        double n = width;
        double k = fanIn;
        bool bias = role is ParameterRole.HiddenBias or ParameterRole.ReadoutBias;
        ParameterRule rule = (p, role) switch
        {
            (Parameterization.Standard, _) => new(1, bias ? sb : sw / Math.Sqrt(k), 1, 1),
            (Parameterization.Ntk, _) => bias ? new(sb, 1, 1, 1) : new(sw / Math.Sqrt(k), 1, 1, 1),
            (Parameterization.MuP, ParameterRole.InputWeight) => new(sw * Math.Sqrt(n / k), 1 / Math.Sqrt(n), 1, 1 / Math.Sqrt(n)),
            (Parameterization.MuP, ParameterRole.HiddenWeight) => new(1, sw / Math.Sqrt(n), 1, 1 / n),
            (Parameterization.MuP, ParameterRole.ReadoutWeight) => new(1 / Math.Sqrt(n), sw / Math.Sqrt(n), 1, 1 / Math.Sqrt(n)),
            (Parameterization.MuP, ParameterRole.HiddenBias) => new(Math.Sqrt(n), sb / Math.Sqrt(n), 1, 1 / Math.Sqrt(n)),
            (Parameterization.MuP, ParameterRole.ReadoutBias) => new(1, sb, 1, 1),
            (Parameterization.MeanField, ParameterRole.InputWeight) => new(sw / Math.Sqrt(k), 1, n, 1),
            (Parameterization.MeanField, ParameterRole.HiddenWeight) => new(sw / Math.Sqrt(n), 1, n, 1 / Math.Sqrt(n)),
            (Parameterization.MeanField, ParameterRole.ReadoutWeight) => new(sw / n, 1, n, 1),
            (Parameterization.MeanField, ParameterRole.HiddenBias) => new(sb, 1, n, 1),
            (Parameterization.MeanField, ParameterRole.ReadoutBias) => new(sb, 1, 1, 1),
            _ => throw new ArgumentOutOfRangeException(nameof(p), p, "Unknown parameterisation."),
        };
        return rule with { AdamEpsilonFactor = Math.Pow(n, -EpsilonExponent(p, role)) };
    }

    /// <summary>
    /// The rule with richness γ₀ (Bordelon &amp; Pehlevan 2022, eq. 1; <see cref="NetworkSpec.Gamma0"/>): the readout weight's
    /// multiplier divided by γ₀, the SGD factor of every tensor but the readout bias multiplied by γ₀² and the Adam factor by γ₀
    /// (Adam's step does not scale with the gradient). The function's step is then γ₀-independent; the features' ∝ γ₀.
    /// </summary>
    public ParameterRule WithRichness(ParameterRole role, double gamma0) => gamma0 == 1 || role == ParameterRole.ReadoutBias ? this
        : this with
        {
            Multiplier = role == ParameterRole.ReadoutWeight ? Multiplier / gamma0 : Multiplier,
            SgdFactor = SgdFactor * gamma0 * gamma0,
            AdamFactor = AdamFactor * gamma0,
        };

    /// <summary>a + γ of <see cref="AdamEpsilonFactor"/> for the base-free forms (the class comment).</summary>
    private static double EpsilonExponent(Parameterization p, ParameterRole role) => (p, role) switch
    {
        (_, ParameterRole.ReadoutBias) => 0,
        (Parameterization.Standard, ParameterRole.ReadoutWeight) => 0,
        (Parameterization.Standard, _) => 0.5,
        (Parameterization.Ntk or Parameterization.MuP, ParameterRole.HiddenWeight) => 1,
        (Parameterization.Ntk or Parameterization.MuP, _) => 0.5,
        (Parameterization.MeanField, ParameterRole.HiddenWeight) => 1.5,
        (Parameterization.MeanField, _) => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(p), p, "Unknown parameterisation."),
    };

    /// <summary>μP relative to SP at width multiplier m (Yang et al. 2022, Table 3; the class comment).</summary>
    private static ParameterRule MuPFromBase(ParameterRole role, int fanIn, double m, double n0, double sw2, double sb2)
    {
        double sw = Math.Sqrt(sw2);
        double sb = Math.Sqrt(sb2);
        // ε factors: sp's at the base width n₀ = n/m, times the μP class's extra 1/m for input, hidden and hidden bias.
        double eps = Math.Pow(n0, -0.5) / m;
        return role switch
        {
            ParameterRole.InputWeight => new(1, sw / Math.Sqrt(fanIn), m, 1, eps),
            ParameterRole.HiddenWeight => new(1, sw / Math.Sqrt(fanIn), 1, 1 / m, eps),
            ParameterRole.ReadoutWeight => new(1, sw / Math.Sqrt(fanIn * m), 1 / m, 1 / m),
            ParameterRole.HiddenBias => new(1, sb, m, 1, eps),
            ParameterRole.ReadoutBias => new(1, sb, 1, 1),
            _ => throw new ArgumentOutOfRangeException(nameof(role), role, "Unknown parameter role."),
        };
    }

    /// <summary>
    /// The same table read by the infinite-width kernels (<see cref="Dense"/>'s kernel step): a dense layer with fan-in k
    /// maps the input kernel K to K′ = (m_W·s_W)²·k·K + (m_b·s_b)² (m the multiplier, s the initial scale) and adds its own
    /// parameters' tangent Σ_θ ∂z·∂z′/∂θ² = m_W²·k·K + m_b² (times the learning-rate factors, 1 in both parameterisations
    /// that have a kernel limit) to Θ′ = (m_W·s_W)²·k·Θ + tangent (Jacot et al. 2018). With the rows above: ntk gives σ_w²,
    /// σ_b² and the tangent σ_w²K + σ_b² = K′; sp gives σ_w², σ_b² and the tangent k·K + 1. The values are written exactly
    /// (no rounding through √); a unit test checks them against <see cref="For"/>.
    /// </summary>
    public static DenseKernelRule DenseKernel(Parameterization p, int fanIn, double sw2, double sb2) => p switch
    {
        Parameterization.Ntk => new(sw2, sb2, sw2, sb2, TangentIsOutputKernel: true),
        Parameterization.Standard => new(sw2, sb2, fanIn, 1, TangentIsOutputKernel: false),
        _ => throw new BadInputException($"Under {(p == Parameterization.MuP ? "μP" : "mean-field")} parameterisation the " +
            "infinite-width network learns features: its training is not described by a fixed kernel, and the output NNGP at " +
            "initialisation vanishes (readout variance ∝ 1/fan_in²). Use --param ntk or sp for infinite-width kernels."),
    };
}

/// <summary>
/// A dense layer's coefficients in the kernel recursion (<see cref="ParameterRule.DenseKernel"/>): K′ = Sw2·K + Sb2 and
/// Θ′ = Sw2·Θ + WeightTangent·K + BiasTangent, which equals Sw2·Θ + K′ when <see cref="TangentIsOutputKernel"/>.
/// </summary>
public readonly record struct DenseKernelRule(double Sw2, double Sb2, double WeightTangent, double BiasTangent, bool TangentIsOutputKernel);
