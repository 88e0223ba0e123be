namespace LearningMechanics.Architecture;

/// <summary>
/// The registered layer names of the text form (<see cref="NetworkSpec.Parse"/>) with their parsers; any other name is
/// read as an activation (<see cref="Activation.Names"/>). A new layer type registers its names here.
/// </summary>
public static class LayerSyntax
{
    internal static readonly IReadOnlyDictionary<string, Func<LayerText, Layer>> Parsers = new Dictionary<string, Func<LayerText, Layer>>
    {
        ["dense"] = Dense.Parse,
        ["linear_layer"] = Dense.Parse,
        ["res"] = Residual.Parse,
        ["residual"] = Residual.Parse,
        ["layernorm"] = LayerNorm.Parse,
        ["ln"] = LayerNorm.Parse,
    };

    /// <summary>The layer names (not activations) the text form accepts, for error messages.</summary>
    public static string Described => "dense(width), res(block,scale), layernorm";
}

/// <summary>One layer's text: the whole item, its bracketed arguments, and the architecture it came from (for messages).</summary>
internal sealed record LayerText(string Item, string Args, string Whole)
{
    /// <summary>The arguments split at top-level commas (untrimmed).</summary>
    public List<string> Arguments() => NetworkSpec.SplitTop(Args, ',', Whole);

    /// <summary>Parses a nested layer sequence (a residual block).</summary>
    public List<Layer> ParseSequence(string text) => NetworkSpec.ParseSequence(text, Whole);
}
