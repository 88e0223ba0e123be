namespace LearningMechanics.Lab;

/// <summary>The outcome of comparing a prediction with a measurement.</summary>
public enum Verdict { Pass, Fail, Inconclusive }

/// <summary>
/// How a claim's tolerance applies: two-sided |predicted − measured| ≤ tolerance (the default), or one-sided, as when the
/// theory gives a bound: measured ≤ predicted + tolerance (<see cref="AtMost"/>) or measured ≥ predicted − tolerance
/// (<see cref="AtLeast"/>).
/// </summary>
public enum ClaimRule { TwoSided, AtMost, AtLeast }

/// <summary>
/// One testable statement: the theory's prediction, the measurement with its standard error, the tolerance
/// (derived from the standard error plus any stated model error) and the verdict. Numbers that could not be
/// obtained are null and the <see cref="Note"/> says why.
/// </summary>
public sealed record Claim(string Id, string Statement, string Source, double? Predicted, double? Measured,
    double? StdErr, double? Tolerance, Verdict Verdict, string? Note = null, ClaimRule Rule = ClaimRule.TwoSided)
{
    /// <summary>
    /// Pass when the measurement is within the tolerance of the prediction under <paramref name="rule"/>
    /// (|predicted − measured| ≤ tolerance by default); inconclusive when any of them is missing or not finite.
    /// </summary>
    public static Claim Compare(string id, string statement, string source, double predicted, double measured,
        double stdErr, double tolerance, string? note = null, ClaimRule rule = ClaimRule.TwoSided)
    {
        double? F(double v) => double.IsFinite(v) ? v : null;
        bool finite = double.IsFinite(predicted) && double.IsFinite(measured) && double.IsFinite(tolerance);
        var verdict = !finite ? Verdict.Inconclusive : Holds(predicted, measured, tolerance, rule) ? Verdict.Pass : Verdict.Fail;
        if (!finite) note = (note is null ? "" : note + " ") + "A prediction, measurement or tolerance was not finite.";
        return new Claim(id, statement, source, F(predicted), F(measured), F(stdErr), F(tolerance), verdict, note, rule);
    }

    /// <summary>The pass rule itself.</summary>
    public static bool Holds(double predicted, double measured, double tolerance, ClaimRule rule) => rule switch
    {
        ClaimRule.AtMost => measured <= predicted + tolerance,
        ClaimRule.AtLeast => measured >= predicted - tolerance,
        _ => Math.Abs(predicted - measured) <= tolerance,
    };
}
