using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Reference.AppHost.Backing;
using Reference.Scaling;

namespace Reference.AppHost.Scaling;

/// <summary>
/// InventoryApi and UploadApi replicas scaled by the gateway's latency (<c>Scaling:Apis</c>): replica 1 of each scaled API
/// starts with the run, 2..N start stopped, and <see cref="ApiScaler"/> starts and stops them through Aspire's resource
/// commands. Off in a publish, and for an API with one replica; unset, on for an API whose count is the AppHost's default,
/// so a count set with <c>Replicas:*</c> (the test fixtures' 2) runs in full.
/// </summary>
public static class ApiScaling
{
    public static void AddApiScaling(
        this IDistributedApplicationBuilder builder,
        BackingServices backing,
        IResourceBuilder<ProjectResource> gateway,
        IResourceBuilder<ParameterResource> adminKey,
        params (string Service, IReadOnlyList<IResourceBuilder<ProjectResource>> Replicas)[] apis)
    {
        var options = builder.Configuration.GetSection(ApiScalingOptions.Section).Get<ApiScalingOptions>() ?? new ApiScalingOptions();
        var validation = new ApiScalingOptionsValidator().Validate(Options.DefaultName, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(ApiScalingOptions), validation.Failures);
        }

        var scaledApis = apis
            .Where(api => builder.ExecutionContext.IsRunMode && api.Replicas.Count > 1
                          && (options.Enabled ?? builder.Configuration[$"Replicas:{api.Service}"] is null))
            .ToList();
        if (scaledApis.Count == 0)
        {
            return;
        }

        foreach (var replica in scaledApis.SelectMany(api => api.Replicas.Skip(1)))
        {
            replica.WithExplicitStart();
        }

        var scaled = scaledApis
            .Select(api => new ScaledApi(api.Service.ToLowerInvariant(), [.. api.Replicas.Select(r => r.Resource.Name)], [.. api.Replicas.Select(r => r.GetEndpoint("http"))]))
            .ToList();
        builder.Services.AddOptions<ApiScalingOptions>().BindConfiguration(ApiScalingOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ApiScalingOptions>, ApiScalingOptionsValidator>();
        builder.Services.AddSingleton(new ScaledApis(scaled));
        builder.Services.AddSingleton(new GatewayLoadReader(gateway.GetEndpoint("http"), adminKey.Resource));
        builder.Services.TryAddSingleton(new ScalerRedis(backing.Cache.Resource));
        builder.Services.AddSingleton<ApiScalingMetrics>();
        builder.Services.AddSingleton<ApiScaler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ApiScaler>());
    }
}

/// <summary>An API scaled by latency: its gateway cluster (<c>inventoryapi</c>), its replicas in start order and their endpoints.</summary>
public sealed record ScaledApi(string Cluster, IReadOnlyList<string> Names, IReadOnlyList<EndpointReference> Endpoints);

public sealed record ScaledApis(IReadOnlyList<ScaledApi> Apis);
