namespace LearningMechanics.Lab;

/// <summary>The outcome of comparing a prediction with a measurement (<see cref="VerdictText.Text"/> gives its name in files).</summary>
public enum Verdict
{
    /// <summary>The measurement agrees with the prediction and rules out the competing hypothesis.</summary>
    Pass,
    /// <summary>The measurement disagrees with the prediction, unexpectedly.</summary>
    Fail,
    /// <summary>A number could not be obtained.</summary>
    Inconclusive,
    /// <summary>A claim of the literature that the lab shows to be wrong, with the evidence in the note.</summary>
    Refuted,
    /// <summary>The tolerance accepts the competing hypothesis too: the claim would pass, but proves nothing.</summary>
    NotDiscriminating,
}

/// <summary>Names of verdicts in result.json, results.db, reports and the terminal.</summary>
public static class VerdictText
{
    public static string Text(this Verdict v) => v switch
    {
        Verdict.NotDiscriminating => "not discriminating",
        _ => v.ToString().ToLowerInvariant(),
    };

    /// <summary>The summary line's counts: "3 pass, 0 fail, 1 refuted, 0 not discriminating, 0 inconclusive".</summary>
    public static string Summary(IEnumerable<Claim> claims)
    {
        var list = claims.ToList();
        return string.Join(", ", Order.Select(v => $"{list.Count(c => c.Verdict == v)} {v.Text()}"));
    }

    /// <summary>The order in which summaries count the verdicts.</summary>
    public static IReadOnlyList<Verdict> Order { get; } =
        [Verdict.Pass, Verdict.Fail, Verdict.Refuted, Verdict.NotDiscriminating, Verdict.Inconclusive];
}

/// <summary>
/// How a claim's tolerance applies: two-sided |predicted − measured| ≤ tolerance (the default), or one-sided, as when the
/// theory gives a bound: measured ≤ predicted + tolerance (<see cref="AtMost"/>) or measured ≥ predicted − tolerance
/// (<see cref="AtLeast"/>).
/// </summary>
public enum ClaimRule
{
    TwoSided,
    AtMost,
    AtLeast,
}

/// <summary>
/// The competing hypothesis a claim must rule out (the null — no effect, no correction — or a rival theory) and its
/// prediction of the same measured quantity.
/// </summary>
public readonly record struct Rival(string Hypothesis, double Prediction);

/// <summary>
/// One testable statement: the theory's prediction, the measurement with its standard error, the tolerance
/// (derived from the standard error plus any stated model error) and the verdict. Numbers that could not be
/// obtained are null and the <see cref="Note"/> says why.
/// </summary>
public sealed record Claim(string Id, string Statement, string Source, double? Predicted, double? Measured,
    double? StdErr, double? Tolerance, Verdict Verdict, string? Note = null, ClaimRule Rule = ClaimRule.TwoSided)
{
    /// <summary>The gallery's false-fail probability per claim: two-sided 4σ, 2·(1 − Φ(4)) = 6.3·10⁻⁵.</summary>
    public const double FalseFailRate = 6.334e-5;

    /// <summary>The competing hypothesis's prediction of the measured quantity (null when none is stated).</summary>
    public double? Competitor { get; init; }

    /// <summary>What the competing hypothesis is, in words.</summary>
    public string? CompetitorHypothesis { get; init; }

    /// <summary>
    /// The smallest relative change of the prediction that flips the verdict, |tolerance − distance|/|predicted| with the
    /// distance measured − predicted signed by the rule (absolute when the prediction is 0).
    /// </summary>
    public double? Resolution { get; init; }

    /// <summary>
    /// Pass when the measurement is within the tolerance of the prediction under <paramref name="rule"/>
    /// (|predicted − measured| ≤ tolerance by default); inconclusive when any of them is missing or not finite.
    /// With a <paramref name="rival"/>, a pass whose tolerance also accepts the rival's prediction is
    /// <see cref="Verdict.NotDiscriminating"/>.
    /// </summary>
    public static Claim Compare(string id, string statement, string source, double predicted, double measured,
        double stdErr, double tolerance, string? note = null, ClaimRule rule = ClaimRule.TwoSided, Rival? rival = null)
    {
        double? F(double v) => double.IsFinite(v) ? v : null;
        bool finite = double.IsFinite(predicted) && double.IsFinite(measured) && double.IsFinite(tolerance);
        var verdict = !finite ? Verdict.Inconclusive : Holds(predicted, measured, tolerance, rule) ? Verdict.Pass : Verdict.Fail;
        if (!finite) note = (note is null ? "" : note + " ") + "A prediction, measurement or tolerance was not finite.";
        var claim = new Claim(id, statement, source, F(predicted), F(measured), F(stdErr), F(tolerance), verdict, note, rule)
        {
            Resolution = finite ? ResolutionOf(predicted, measured, tolerance, rule) : null,
        };
        return rival is { } r ? claim.Against(r) : claim;
    }

    /// <summary>The pass rule itself.</summary>
    public static bool Holds(double predicted, double measured, double tolerance, ClaimRule rule) => rule switch
    {
        ClaimRule.AtMost => measured <= predicted + tolerance,
        ClaimRule.AtLeast => measured >= predicted - tolerance,
        _ => Math.Abs(predicted - measured) <= tolerance,
    };

    /// <summary>See <see cref="Resolution"/>.</summary>
    public static double ResolutionOf(double predicted, double measured, double tolerance, ClaimRule rule)
    {
        double distance = rule switch
        {
            ClaimRule.AtMost => measured - predicted,
            ClaimRule.AtLeast => predicted - measured,
            _ => Math.Abs(measured - predicted),
        };
        double change = Math.Abs(tolerance - distance);
        return predicted == 0 ? change : change / Math.Abs(predicted);
    }

    /// <summary>
    /// The claim with its competing hypothesis recorded: a pass whose tolerance also accepts the rival's prediction becomes
    /// <see cref="Verdict.NotDiscriminating"/> (it cannot tell the two apart). The rival predicts a value, so for a one-sided
    /// claim ("at most a level") it is accepted when the measurement lies within the tolerance of that value on either side.
    /// </summary>
    public Claim Against(Rival rival)
    {
        bool both = Verdict == Verdict.Pass && Measured is { } m && Tolerance is { } tol
            && Holds(rival.Prediction, m, tol, ClaimRule.TwoSided);
        return this with
        {
            Competitor = double.IsFinite(rival.Prediction) ? rival.Prediction : null,
            CompetitorHypothesis = rival.Hypothesis,
            Verdict = both ? Verdict.NotDiscriminating : Verdict,
            Note = both ? Append(Note, $"Not discriminating: the tolerance also accepts the competitor ({rival.Hypothesis}).") : Note,
        };
    }

    /// <summary>
    /// Marks the claim as one of the literature that the lab expects to refute: a failure becomes <see cref="Verdict.Refuted"/>
    /// with <paramref name="evidence"/> (why it fails) in the note; any other verdict stays.
    /// </summary>
    public Claim Refutable(string evidence) => Verdict == Verdict.Fail
        ? this with { Verdict = Verdict.Refuted, Note = Append(Note, "Refuted: " + evidence) }
        : this;

    private static string Append(string? note, string text) => note is null ? text : note + " " + text;
}
