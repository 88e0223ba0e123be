namespace LearningMechanics.Lab;

/// <summary>
/// A <see cref="ClaimDeclaration"/> with its placeholders filled for one run: the id, statement, source and rule every
/// <see cref="Claim"/> it yields carries.
/// </summary>
public sealed record DeclaredClaim(string Id, string Statement, string Source, ClaimRule Rule)
{
    /// <summary>The verdict of <see cref="Claim.Compare"/> under the declared rule.</summary>
    public Claim Compare(double predicted, double measured, double stdErr, double tolerance, string? note = null) =>
        Claim.Compare(Id, Statement, Source, predicted, measured, stdErr, tolerance, note, Rule);

    /// <summary>A claim that could not be evaluated; the note says why.</summary>
    public Claim Inconclusive(double? predicted, string note, double? tolerance = null) =>
        new(Id, Statement, Source, predicted, null, null, tolerance, Verdict.Inconclusive, note, Rule);
}
