using LearningMechanics.Lab;

namespace LearningMechanics.Experiments;

/// <summary>The experiment gallery, by id: each class is named after its id (gp-limit → GpLimitExperiment).</summary>
public static class Registry
{
    public static IReadOnlyList<IExperiment> All { get; } =
    [
        new GpLimitExperiment(),
        new CriticalityExperiment(),
        new NtkLimitExperiment(),
        new FiniteWidthVertexExperiment(),
        new ResidualVertexExperiment(),
        new MupTransferExperiment(),
        new DepthMupExperiment(),
        new LinearScalingExperiment(),
        new EdgeOfStabilityExperiment(),
        new SpectralOutliersExperiment(),
        new DmftExperiment(),
        new DeepLinearExperiment(),
        new ConservationExperiment(),
        new NeuralCollapseExperiment(),
        new FeatureAnsatzExperiment(),
        new DoubleDescentExperiment(),
        new ScalingLawsExperiment(),
        new EigenlearningExperiment(),
        new LazyTrainingExperiment(),
        new LazyVsRichExperiment(),
        new NtkFluctuationsExperiment(),
        new BayesianFiniteWidthExperiment(),
    ];

    public static IExperiment Get(string id) =>
        All.FirstOrDefault(e => string.Equals(e.Id, id, StringComparison.OrdinalIgnoreCase))
        ?? throw new BadInputException($"Unknown experiment '{id}'. Allowed: {string.Join(", ", All.Select(e => e.Id))}, all.");
}
