using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace LearningMechanics.Lab;

/// <summary>
/// A claim as an experiment declares it before any run: its id, statement, the reference it comes from and how it is
/// judged (<see cref="Rule"/> and the <see cref="Tolerance"/> recipe in words). A claim made once per activation or
/// configuration has an id pattern such as <c>cov-{act}</c>; placeholders <c>{name}</c> or <c>{name:format}</c> in the id
/// and the statement are filled at run time by <see cref="With"/> (invariant culture), braces around anything that is not
/// a name (n^{−1}) are literal text. The run turns the filled declaration into <see cref="Claim"/> results, so the text
/// of a claim lives in one place.
/// </summary>
public sealed partial record ClaimDeclaration(string Id, string Statement, string Reference, ClaimRule Rule, string Tolerance)
{
    /// <summary>
    /// The competing hypothesis the claim must rule out, in words (the null — no effect, no correction — or a rival
    /// theory); the run computes its prediction of the same measured quantity. Placeholders as in the statement.
    /// </summary>
    public string? Competitor { get; init; }

    /// <summary>
    /// For a claim of the literature that the lab expects to refute: the evidence, in words. A failure of such a claim is
    /// <see cref="Verdict.Refuted"/> with this text in its note, not an unexpected <see cref="Verdict.Fail"/>.
    /// </summary>
    public string? ExpectedRefutation { get; init; }

    [GeneratedRegex(@"\{([A-Za-z_][A-Za-z0-9_]*)(?::([^{}]+))?\}")]
    private static partial Regex Placeholder();

    /// <summary>The placeholder names of the id and the statement, each once, in order of appearance.</summary>
    public IReadOnlyList<string> Placeholders =>
        [.. Placeholder().Matches($"{Id} {Statement} {Competitor} {ExpectedRefutation}").Select(m => m.Groups[1].Value).Distinct()];

    /// <summary>
    /// The declaration with its placeholders filled. Every placeholder needs a value and every value a placeholder:
    /// a mismatch is a programming error and throws.
    /// </summary>
    public DeclaredClaim With(params (string Name, object Value)[] values)
    {
        var names = Placeholders;
        foreach (var (name, _) in values)
            if (!names.Contains(name)) throw new ArgumentException($"Claim '{Id}' has no placeholder '{{{name}}}'.", nameof(values));
        foreach (var name in names)
            if (!values.Any(v => v.Name == name))
                throw new ArgumentException($"Claim '{Id}' needs a value for '{{{name}}}'.", nameof(values));
        return new DeclaredClaim(Fill(Id, values), Fill(Statement, values), Reference, Rule)
        {
            Competitor = Competitor is null ? null : Fill(Competitor, values),
            ExpectedRefutation = ExpectedRefutation is null ? null : Fill(ExpectedRefutation, values),
        };
    }

    /// <summary>Whether a produced claim id is an instance of this declaration's id pattern.</summary>
    public bool Matches(string id)
    {
        var pattern = new StringBuilder("^");
        int at = 0;
        foreach (Match m in Placeholder().Matches(Id))
        {
            pattern.Append(Regex.Escape(Id[at..m.Index])).Append(".+");
            at = m.Index + m.Length;
        }
        pattern.Append(Regex.Escape(Id[at..])).Append('$');
        return Regex.IsMatch(id, pattern.ToString());
    }

    private static string Fill(string template, (string Name, object Value)[] values) =>
        Placeholder().Replace(template, m =>
        {
            var value = values.First(v => v.Name == m.Groups[1].Value).Value;
            string? format = m.Groups[2].Success ? m.Groups[2].Value : null;
            return value is IFormattable f ? f.ToString(format, CultureInfo.InvariantCulture) : value.ToString() ?? "";
        });
}
