namespace LearningMechanics.Architecture;

/// <summary>
/// Width parameterisations (claims.md §2.1; seed 002 table; seed 000 §Tensor Programs). NTK: stored weights N(0, 1)
/// with multiplier σ_w/√fan_in. Standard: weights N(0, σ_w²/fan_in), no multiplier. μP and mean-field: feature
/// learning limits, where the infinite-width network is not described by a fixed kernel.
/// </summary>
public enum Parameterization { Ntk, Standard, MuP, MeanField }

public static class ParameterizationNames
{
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
