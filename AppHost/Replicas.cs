using System.Reflection;
using System.Runtime.Versioning;
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
                .RunFromBuiltOutput()
                // Not proxied: the gateway talks to the process itself, as on a server; DCP's proxy
                // would add a hop and ~0.2 ms of CPU to every request.
                .WithHttpEndpoint(name: "http", isProxied: false)
                .WithHttpHealthCheck(HealthEndpoints.HealthPath)))
            .ToList();

    /// <summary>
    /// Starts the project as <c>dotnet bin/{configuration}/{framework}/{project}.dll</c> instead of Aspire's <c>dotnet run
    /// --no-build</c>: no launcher stays resident above the service (≈ 140 MB each) and a worker the scaler starts is up
    /// sooner. The AppHost's build builds the projects it references, so the output is this run's. Left to <c>dotnet run</c>
    /// when an IDE launches the services (it debugs them) or the output is not there.
    /// </summary>
    public static IResourceBuilder<ProjectResource> RunFromBuiltOutput(this IResourceBuilder<ProjectResource> project)
    {
        // DCP hands projects to the IDE when the AppHost runs under one (F5 in Visual Studio or VS Code); a publish
        // (the manifest, compose) describes projects, not this machine's build output.
        if (project.ApplicationBuilder.Configuration["DEBUG_SESSION_PORT"] is { Length: > 0 } || project.ApplicationBuilder.ExecutionContext.IsPublishMode)
        {
            return project;
        }

        var projectPath = project.Resource.GetProjectMetadata().ProjectPath;
        var directory = Path.GetDirectoryName(projectPath)!;
        var output = Path.Combine(directory, "bin", BuildConfiguration, TargetFramework, Path.GetFileNameWithoutExtension(projectPath) + ".dll");
        if (!File.Exists(output))
        {
            return project;
        }

        // A project with an ExecutableAnnotation gets no `run --project` arguments: its own (the dll) and the working
        // directory `dotnet run` would use, so the content root and appsettings.json are found as before.
        return project.WithAnnotation(new ExecutableAnnotation { Command = "dotnet", WorkingDirectory = directory }, ResourceAnnotationMutationBehavior.Replace)
            .WithArgs(output);
    }

    /// <summary>The AppHost's own configuration (Debug, Release): its build built the services with the same.</summary>
    private static string BuildConfiguration =>
        typeof(Replicas).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    /// <summary><c>net10.0</c> from the AppHost's target framework, which the services share (Directory.Build.props).</summary>
    private static string TargetFramework
    {
        get
        {
            var version = new FrameworkName(typeof(Replicas).Assembly.GetCustomAttribute<TargetFrameworkAttribute>()!.FrameworkName).Version;
            return $"net{version.Major}.{version.Minor}";
        }
    }

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
