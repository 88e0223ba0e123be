namespace LearningMechanics.Lab;

/// <summary>
/// A <see cref="ClaimDeclaration"/> with its placeholders filled for one run: the id, statement, source, rule, competing
/// hypothesis and expected refutation every <see cref="Claim"/> it yields carries.
/// </summary>
public sealed record DeclaredClaim(string Id, string Statement, string Source, ClaimRule Rule)
{
    /// <summary>The competing hypothesis in words (see <see cref="ClaimDeclaration.Competitor"/>).</summary>
    public string? Competitor { get; init; }

    /// <summary>The evidence against a literature claim the lab expects to refute (see
    /// <see cref="ClaimDeclaration.ExpectedRefutation"/>).</summary>
    public string? ExpectedRefutation { get; init; }

    /// <summary>
    /// The verdict of <see cref="Claim.Compare"/> under the declared rule, judged against the competitor's prediction
    /// <paramref name="competitor"/> when the declaration names one (a pass that also accepts it is not discriminating), and
    /// refuted instead of failed when the declaration expects a refutation.
    /// </summary>
    public Claim Compare(double predicted, double measured, double stdErr, double tolerance, string? note = null, double? competitor = null)
    {
        if (competitor is not null && Competitor is null)
            throw new InvalidOperationException($"Claim '{Id}' got a competitor's prediction but declares no competing hypothesis.");
        Rival? rival = Competitor is not null && competitor is { } c ? new Rival(Competitor, c) : null;
        var claim = Claim.Compare(Id, Statement, Source, predicted, measured, stdErr, tolerance, note, Rule, rival);
        return ExpectedRefutation is not null ? claim.Refutable(ExpectedRefutation) : claim;
    }

    /// <summary>A claim that could not be evaluated; the note says why.</summary>
    public Claim Inconclusive(double? predicted, string note, double? tolerance = null) =>
        new(Id, Statement, Source, predicted, null, null, tolerance, Verdict.Inconclusive, note, Rule)
        {
            CompetitorHypothesis = Competitor,
        };
}
