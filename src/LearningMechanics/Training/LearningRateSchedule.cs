using System.Globalization;

namespace LearningMechanics.Training;

/// <summary>
/// Learning-rate schedule η_t = η·factor(t): optional linear warm-up over <see cref="Warmup"/> steps, then constant,
/// step decay (×<see cref="Gamma"/> every <see cref="Every"/> steps) or cosine decay to 0 over the remaining steps.
/// Text form: <c>constant</c>, <c>cosine</c>, <c>step(EVERY,GAMMA)</c>, each optionally prefixed by <c>warmup(STEPS)+</c>.
/// </summary>
public sealed record LearningRateSchedule(string Kind = "constant", int Warmup = 0, int Every = 0, double Gamma = 1)
{
    public static LearningRateSchedule Constant { get; } = new();

    /// <summary>The factor at step t (0-based) of a run of <paramref name="totalSteps"/> steps.</summary>
    public double Factor(int t, int totalSteps)
    {
        if (Warmup > 0 && t < Warmup) return (t + 1.0) / Warmup;
        int s = t - Warmup;
        int span = Math.Max(1, totalSteps - Warmup);
        return Kind switch
        {
            "cosine" => 0.5 * (1 + Math.Cos(Math.PI * Math.Min(s, span) / span)),
            "step" => Math.Pow(Gamma, s / Every),
            _ => 1,
        };
    }

    public override string ToString() =>
        (Warmup > 0 ? $"warmup({Warmup})+" : "") + (Kind == "step" ? FormattableString.Invariant($"step({Every},{Gamma})") : Kind);

    public static LearningRateSchedule Parse(string text)
    {
        var s = text.Trim().ToLowerInvariant();
        int warmup = 0;
        if (s.StartsWith("warmup(", StringComparison.Ordinal))
        {
            int close = s.IndexOf(')');
            if (close < 0 || !int.TryParse(s[7..close], NumberStyles.Integer, CultureInfo.InvariantCulture, out warmup) || warmup < 1)
                throw Bad(text);
            s = s[(close + 1)..].TrimStart('+');
            if (s.Length == 0) s = "constant";
        }
        if (s is "constant" or "cosine") return new LearningRateSchedule(s, warmup);
        if (s.StartsWith("step(", StringComparison.Ordinal) && s.EndsWith(')'))
        {
            var parts = s[5..^1].Split(',');
            if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int every) && every >= 1
                && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double gamma) && gamma > 0 && gamma <= 1)
                return new LearningRateSchedule("step", warmup, every, gamma);
        }
        throw Bad(text);
    }

    private static BadInputException Bad(string text) => new(
        $"Unknown learning-rate schedule '{text}'. Allowed: constant, cosine, step(EVERY,GAMMA) with EVERY ≥ 1 and 0 < GAMMA ≤ 1, " +
        "optionally prefixed by warmup(STEPS)+.");
}
