using System.Globalization;

namespace LearningMechanics.Architecture;

/// <summary>
/// An architecture: a sequence of layers with a parameterisation and default σ_w², σ_b². Text form, layers joined by
/// '-': <c>dense(512)-res(relu-dense(512),0.5)-layernorm-dense(1)</c>; <c>dense(n,sw2=2,sb2=0.1)</c> overrides
/// the defaults for one layer; activations by name (<see cref="Activation.Names"/>).
/// </summary>
public sealed record NetworkSpec(IReadOnlyList<Layer> Layers, Parameterization Param = Parameterization.Ntk, double Sw2 = 1.0, double Sb2 = 0.0)
{
    public string ToText() => string.Join("-", Layers.Select(l => l.ToText()));

    /// <summary>Parses the text form; bad layers, numbers or brackets throw <see cref="BadInputException"/> naming them.</summary>
    public static NetworkSpec Parse(string text, Parameterization param = Parameterization.Ntk, double sw2 = 1.0, double sb2 = 0.0)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new BadInputException("Empty architecture. Example: dense(512)-relu-dense(1).");
        if (!(sw2 > 0) || !double.IsFinite(sw2)) throw new BadInputException($"σ_w² = {sw2} must be a positive finite number.");
        if (!(sb2 >= 0) || !double.IsFinite(sb2)) throw new BadInputException($"σ_b² = {sb2} must be a non-negative finite number.");
        return new NetworkSpec(ParseSequence(text.Trim(), text), param, sw2, sb2);
    }

    private static List<Layer> ParseSequence(string s, string whole)
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
        switch (name)
        {
            case "dense":
            case "linear_layer":
                {
                    var parts = SplitTop(args, ',', whole).Select(p => p.Trim()).ToList();
                    if (parts.Count == 0 || parts[0].Length == 0) throw new BadInputException($"Layer '{item}' needs a width, e.g. dense(512).");
                    if (!int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int width) || width < 1)
                        throw new BadInputException($"Layer '{item}': width '{parts[0]}' must be a positive integer.");
                    double? sw2 = null, sb2 = null;
                    foreach (var p in parts.Skip(1))
                    {
                        var kv = p.Split('=', 2);
                        double v = kv.Length == 2 && double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d)
                            ? d : throw new BadInputException($"Layer '{item}': '{p}' must be sw2=NUMBER or sb2=NUMBER.");
                        switch (kv[0].Trim())
                        {
                            case "sw2" when v > 0: sw2 = v; break;
                            case "sb2" when v >= 0: sb2 = v; break;
                            default: throw new BadInputException($"Layer '{item}': '{p}' is not allowed (sw2 > 0, sb2 ≥ 0).");
                        }
                    }
                    return new Dense(width, sw2, sb2);
                }
            case "res":
            case "residual":
                {
                    var parts = SplitTop(args, ',', whole);
                    if (parts.Count is < 1 or > 3 || parts[0].Trim().Length == 0)
                        throw new BadInputException($"Layer '{item}': expected res(block), res(block, scale) or res(block, scale, identity), e.g. res(relu-dense(512),0.5).");
                    double scale = 1, identity = 1;
                    if (parts.Count >= 2 && !(double.TryParse(parts[1].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out scale) && double.IsFinite(scale)))
                        throw new BadInputException($"Layer '{item}': branch scale '{parts[1].Trim()}' is not a number.");
                    if (parts.Count == 3 && !(double.TryParse(parts[2].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out identity) && double.IsFinite(identity)))
                        throw new BadInputException($"Layer '{item}': identity scale '{parts[2].Trim()}' is not a number.");
                    var block = ParseSequence(parts[0], whole);
                    if (block[^1] is not Dense)
                        throw new BadInputException($"Residual block '{parts[0].Trim()}' must end with a dense layer (its output must be zero-mean and independent of the skip path at initialisation).");
                    return new Residual(block, scale, identity);
                }
            case "layernorm":
            case "ln":
                if (args.Length > 0) throw new BadInputException($"Layer '{item}': layernorm takes no arguments.");
                return new LayerNorm();
            default:
                try { return new ActivationLayer(Activation.Parse(item)); }
                catch (BadInputException e) when (e.Message.StartsWith("Unknown activation", StringComparison.Ordinal))
                {
                    throw new BadInputException($"Unknown layer '{item}' in '{whole}'. Allowed: dense(width), res(block,scale), layernorm, or an activation: {string.Join(", ", Activation.Names)}.");
                }
        }
    }

    /// <summary>Splits at separators outside brackets (numbers such as 1e-3 only occur inside brackets).</summary>
    private static List<string> SplitTop(string s, char sep, string whole)
    {
        var parts = new List<string>();
        int depth = 0, start = 0;
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
