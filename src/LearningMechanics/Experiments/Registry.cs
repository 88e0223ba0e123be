using LearningMechanics.Lab;
namespace LearningMechanics.Experiments;

/// <summary>The experiment gallery, by id.</summary>
public static class Registry
{
    public static IReadOnlyList<IExperiment> All { get; } = [new GpLimit(), new CriticalityExperiment(), new NtkLimit(), new FiniteWidthVertex(), new EigenlearningExperiment(), new LazyTraining(), new LazyVsRich(), new NtkFluctuationsExperiment(), new BayesianFiniteWidth()];

    public static IExperiment Get(string id) =>
        All.FirstOrDefault(e => string.Equals(e.Id, id, StringComparison.OrdinalIgnoreCase))
        ?? throw new BadInputException($"Unknown experiment '{id}'. Allowed: {string.Join(", ", All.Select(e => e.Id))}, all.");
}
