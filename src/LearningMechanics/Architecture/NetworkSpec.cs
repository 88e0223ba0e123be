namespace LearningMechanics.Architecture;

/// <summary>
/// An architecture: a sequence of layers with a parameterisation and default σ_w², σ_b². Text form, layers joined by
/// '-': <c>dense(512)-res(relu-dense(512),0.5)-layernorm-dense(1)</c>; <c>dense(n,sw2=2,sb2=0.1)</c> overrides
/// the defaults for one layer; activations by name (<see cref="Activation.Names"/>).
/// </summary>
public sealed record NetworkSpec(
    IReadOnlyList<Layer> Layers, Parameterization Param = Parameterization.Ntk, double Sw2 = 1.0, double Sb2 = 0.0)
{
    /// <summary>μP's base width n₀: μP equals SP at width n₀ (<see cref="ParameterRule"/>); null for the base-free form and
    /// the other parameterisations.</summary>
    public double? BaseWidth
    {
        get => baseWidth;
        init
        {
            if (value is { } v && (!(v > 0) || !double.IsFinite(v)))
                throw new BadInputException($"Base width {v} must be a positive number.");
            if (value is not null && Param != Parameterization.MuP)
                throw new BadInputException($"A base width applies to μP only (--param mup), not to {Param.ToText()}.");
            baseWidth = value;
        }
    }

    private readonly double? baseWidth;

    /// <summary>
    /// Richness γ₀ of the mean-field/μP network (Bordelon &amp; Pehlevan 2022, eq. 1): the output is divided by γ₀ and every
    /// learning rate but the readout bias's multiplied by γ₀² (GD, SGD, momentum) or γ₀ (Adam), so that the function moves
    /// at a γ₀-independent speed while the features move ∝ γ₀: γ₀ → 0 is the lazy (kernel) limit, γ₀ = 1 plain μP
    /// (<see cref="ParameterRule.WithRichness"/>). Only for <c>mup</c> and <c>mf</c> without a base width.
    /// </summary>
    public double Gamma0
    {
        get => gamma0;
        init
        {
            if (!(value > 0) || !double.IsFinite(value))
                throw new BadInputException($"Richness γ₀ = {value} must be a positive finite number.");
            if (value != 1 && Param is not (Parameterization.MuP or Parameterization.MeanField))
                throw new BadInputException($"Richness γ₀ applies to μP and mean-field networks (--param mup or mf), not to " +
                    $"{Param.ToText()}; for an output scale under NTK parameterisation see the lazy-vs-rich experiment.");
            gamma0 = value;
        }
    }

    private readonly double gamma0 = 1;

    public string ToText() => string.Join("-", Layers.Select(l => l.ToText()));

    /// <summary>Parses the text form; bad layers, numbers or brackets throw <see cref="BadInputException"/> naming them.</summary>
    public static NetworkSpec Parse(string text, Parameterization param = Parameterization.Ntk, double sw2 = 1.0, double sb2 = 0.0)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new BadInputException("Empty architecture. Example: dense(512)-relu-dense(1).");
        if (!(sw2 > 0) || !double.IsFinite(sw2)) throw new BadInputException($"σ_w² = {sw2} must be a positive finite number.");
        if (!(sb2 >= 0) || !double.IsFinite(sb2)) throw new BadInputException($"σ_b² = {sb2} must be a non-negative finite number.");
        int depth = 0;
        int deepest = 0;
        foreach (char c in text)
            if (c == '(') deepest = Math.Max(deepest, ++depth);
            else if (c == ')') depth--;
        if (deepest > MaxNesting)
            throw new BadInputException($"Architecture nests brackets {deepest} deep; at most {MaxNesting} levels are allowed " +
                "(write a deep residual network as a sequence of blocks, res(...)-res(...)-…).");
        return new NetworkSpec(ParseSequence(text.Trim(), text), param, sw2, sb2);
    }

    /// <summary>The deepest bracket nesting parsed (a recursive parse of 14 000 nested blocks overflowed the stack).</summary>
    public const int MaxNesting = 32;

    internal static List<Layer> ParseSequence(string s, string whole)
    {
        var layers = SplitTop(s, '-', whole).Select(item => ParseItem(item.Trim(), whole)).ToList();
        if (layers.Count == 0) throw new BadInputException($"Architecture '{whole}' has no layers.");
        return layers;
    }

    private static Layer ParseItem(string item, string whole)
    {
        if (item.Length == 0) throw new BadInputException($"Architecture '{whole}' has an empty layer (two '-' in a row?).");
        int open = item.IndexOf('(');
        string name = (open < 0 ? item : item[..open]).Trim().ToLowerInvariant();
        string args = "";
        if (open >= 0)
        {
            if (!item.EndsWith(')')) throw new BadInputException($"Layer '{item}' in '{whole}' has unbalanced brackets.");
            args = item[(open + 1)..^1];
        }
        if (LayerSyntax.Parsers.TryGetValue(name, out var parse)) return parse(new LayerText(item, args, whole));
        try
        {
            return new ActivationLayer(Activation.Parse(item));
        }
        catch (BadInputException e) when (e.Message.StartsWith("Unknown activation", StringComparison.Ordinal))
        {
            throw new BadInputException($"Unknown layer '{item}' in '{whole}'. Allowed: {LayerSyntax.Described}, or an activation: " +
                $"{string.Join(", ", Activation.Names)}.");
        }
    }

    /// <summary>Splits at separators outside brackets (numbers such as 1e-3 only occur inside brackets).</summary>
    internal static List<string> SplitTop(string s, char sep, string whole)
    {
        var parts = new List<string>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '(') depth++;
            else if (s[i] == ')' && --depth < 0) throw new BadInputException($"Architecture '{whole}' has an unmatched ')'.");
            else if (s[i] == sep && depth == 0)
            {
                parts.Add(s[start..i]); start = i + 1;
            }
        }
        if (depth != 0) throw new BadInputException($"Architecture '{whole}' has an unmatched '('.");
        parts.Add(s[start..]);
        return parts;
    }
}
