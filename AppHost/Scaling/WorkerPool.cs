using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Reference.AppHost.Backing;
using Reference.Scaling;

namespace Reference.AppHost.Scaling;

/// <summary>
/// The image workers as a pool the AppHost schedules: <c>imageworker-1..MaxWorkers</c> are declared,
/// the first <c>MinWorkers</c> start with the run and the rest start stopped; <see cref="WorkerScaler"/>
/// starts and stops them through Aspire's resource commands, so the dashboard shows every change.
/// With <c>Scaling:Enabled=false</c> the pool is the fixed <c>Replicas:ImageWorker</c> of before.
/// </summary>
public static class WorkerPool
{
    public const string WorkerName = "imageworker";

    public static IReadOnlyList<IResourceBuilder<ProjectResource>> AddImageWorkerPool(
        this IDistributedApplicationBuilder builder,
        BackingServices backing,
        Func<IResourceBuilder<ProjectResource>, IResourceBuilder<ProjectResource>> configure)
    {
        var options = builder.Configuration.GetSection(ScalingOptions.Section).Get<ScalingOptions>() ?? new ScalingOptions();
        // Checked here, not only at host start: the cap decides how many resources exist.
        var validation = new ScalingOptionsValidator().Validate(Options.DefaultName, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(ScalingOptions), validation.Failures);
        }

        if (!options.Enabled)
        {
            return builder.AddReplicas<Projects.ImageWorker>(WorkerName, builder.ReplicaCount("ImageWorker", 2), configure);
        }

        var limits = options.Resolve(MachineCapacity.Current);
        var workers = builder.AddReplicas<Projects.ImageWorker>(WorkerName, limits.MaxWorkers, worker =>
        {
            // The scaler finds each worker's channels on the broker by the resource's name (MessagingExtensions).
            configure(worker);
            var index = int.Parse(worker.Resource.Name[(WorkerName.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            return index > limits.MinWorkers ? worker.WithExplicitStart() : worker;
        });

        builder.Services.AddOptions<ScalingOptions>().BindConfiguration(ScalingOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ScalingOptions>, ScalingOptionsValidator>();
        builder.Services.AddSingleton(new WorkerPoolMembers(workers.Select(w => w.Resource.Name).ToList(), limits));
        builder.Services.AddSingleton(sp => new WorkQueueReader(backing.Messaging.Resource,
            sp.GetRequiredService<DistributedApplicationModel>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<WorkQueueReader>>()));
        builder.Services.TryAddSingleton(new ScalerRedis(backing.Cache.Resource));
        builder.Services.AddSingleton<WorkerDrains>();
        builder.Services.AddSingleton<ScalingMetrics>();
        builder.Services.AddSingleton<WorkerScaler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WorkerScaler>());
        return workers;
    }
}

/// <summary>The pool's worker resources, in start order, and the resolved limits.</summary>
public sealed record WorkerPoolMembers(IReadOnlyList<string> Names, ScalingLimits Limits);
