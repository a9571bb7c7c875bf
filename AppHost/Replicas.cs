using Microsoft.Extensions.Configuration;
using Reference.Contracts;

namespace Reference.AppHost;

/// <summary>
/// Replicas as separate resources (<c>inventoryapi-1</c>, <c>inventoryapi-2</c>…) rather than
/// <c>WithReplicas</c>: the gateway must see every replica's own address to balance across them
/// and health-check each one, which Aspire's shared replica proxy would hide.
/// </summary>
public static class Replicas
{
    public static int ReplicaCount(this IDistributedApplicationBuilder builder, string service, int defaultCount) =>
        Math.Max(1, builder.Configuration.GetValue($"Replicas:{service}", defaultCount));

    public static IReadOnlyList<IResourceBuilder<ProjectResource>> AddReplicas<TProject>(
        this IDistributedApplicationBuilder builder,
        string name,
        int count,
        Func<IResourceBuilder<ProjectResource>, IResourceBuilder<ProjectResource>> configure)
        where TProject : IProjectMetadata, new() =>
        Enumerable.Range(1, count)
            .Select(i => configure(builder.AddProject<TProject>($"{name}-{i}", launchProfileName: null)
                // Not proxied: the gateway talks to the process itself, as on a server; DCP's proxy
                // would add a hop and ~0.2 ms of CPU to every request.
                .WithHttpEndpoint(name: "http", isProxied: false)
                .WithHttpHealthCheck(HealthEndpoints.HealthPath)))
            .ToList();

    /// <summary>Service discovery entries for every replica: <c>services__{service}__http__{i}</c>.</summary>
    public static IResourceBuilder<ProjectResource> WithReplicaReferences(
        this IResourceBuilder<ProjectResource> project, string service, IReadOnlyList<IResourceBuilder<ProjectResource>> replicas)
    {
        for (var i = 0; i < replicas.Count; i++)
        {
            project.WithEnvironment($"services__{service}__http__{i}", replicas[i].GetEndpoint("http"));
        }

        return project;
    }
}
