namespace LearningMechanics.Architecture;

/// <summary>
/// Width parameterisations (Yang &amp; Hu 2021; Yang et al. 2022). NTK: stored weights N(0, 1)
/// with multiplier σ_w/√fan_in. Standard: weights N(0, σ_w²/fan_in), no multiplier. μP and mean-field: feature
/// learning limits, where the infinite-width network is not described by a fixed kernel.
/// </summary>
public enum Parameterization { Ntk, Standard, MuP, MeanField }

/// <summary>
/// abc exponents of one layer (Yang &amp; Hu 2021, Tensor Programs IV): W = n^{−a}·w with
/// w ~ N(0, n^{−2b}) and SGD learning rate η·n^{−c}, n the width.
/// </summary>
public readonly record struct AbcExponents(double A, double B, double C);

public static class ParameterizationNames
{
    /// <summary>
    /// The abc exponents of layer <paramref name="layer"/> (1 = input layer, <paramref name="layers"/> = readout) as in
    /// Yang &amp; Hu 2021: μP a₁ = −½, a_ℓ = 0, a_{L+1} = ½, b = ½, c = 0; NTP a₁ = 0, a_ℓ = ½ (ℓ ≥ 2), b = 0, c = 0;
    /// SP a = 0, b₁ = 0, b_ℓ = ½, c = 1; mean-field (two-layer) coincides with μP.
    /// </summary>
    public static AbcExponents Abc(this Parameterization p, int layer, int layers)
    {
        if (layer < 1 || layer > layers) throw new ArgumentOutOfRangeException(nameof(layer), $"Layer {layer} must be in 1…{layers}.");
        return p switch
        {
            Parameterization.Ntk => new AbcExponents(layer == 1 ? 0 : 0.5, 0, 0),
            Parameterization.Standard => new AbcExponents(0, layer == 1 ? 0 : 0.5, 1),
            _ => new AbcExponents(layer == 1 ? -0.5 : layer == layers ? 0.5 : 0, 0.5, 0),
        };
    }

    public static Parameterization Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "ntk" or "ntp" => Parameterization.Ntk,
        "sp" or "standard" => Parameterization.Standard,
        "mup" or "μp" => Parameterization.MuP,
        "mf" or "meanfield" or "mean-field" => Parameterization.MeanField,
        _ => throw new BadInputException($"Unknown parameterisation '{text}'. Allowed: ntk, sp, mup, mf."),
    };

    public static string ToText(this Parameterization p) => p switch
    {
        Parameterization.Ntk => "ntk",
        Parameterization.Standard => "sp",
        Parameterization.MuP => "mup",
        _ => "mf",
    };
}
