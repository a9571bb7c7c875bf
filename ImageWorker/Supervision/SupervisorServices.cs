using Microsoft.Extensions.Options;
using Reference.Scaling;

namespace Reference.ImageWorker.Supervision;

public static class SupervisorServices
{
    public const string SuperviseSetting = "Scaling:Supervise";

    /// <summary>Supervisor mode: only the scaler and the health endpoint; the image work happens in its worker processes.</summary>
    public static IHostApplicationBuilder AddWorkerSupervisor(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ScalingOptions>().BindConfiguration(ScalingOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ScalingOptions>, ScalingOptionsValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        // Its decisions for the operations console (ScalerDecisionLog), as the imageworker's Redis user.
        builder.AddDegradableRedisClient(ImageWorkerServices.CacheConnectionName);
        builder.Services.AddSingleton<WorkerSupervisor>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WorkerSupervisor>());
        return builder;
    }
}
