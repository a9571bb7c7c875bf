using System.Net.Http.Json;
using System.Text.Json;

namespace Reference.AppHost.Operations;

/// <summary>
/// The operations console's actions where the F5 user already looks: "Drain" and "Resume" on each worker, "Retry all failed"
/// on UploadApi. Both call the console's API through the gateway with the admin key, as the page does, so the
/// dashboard and the page can never disagree on what an action means.
/// </summary>
public static class OperationsCommands
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>"Drain" and "Resume" on a worker resource.</summary>
    public static IResourceBuilder<ProjectResource> WithDrainCommands(
        this IResourceBuilder<ProjectResource> worker, IResourceBuilder<ProjectResource> gateway, IResourceBuilder<ParameterResource> adminKey)
    {
        var name = worker.Resource.Name;
        return worker
            .WithCommand("drain", "Drain", context => SendToWorkerAsync(name, "drain", gateway, adminKey, context.CancellationToken), new CommandOptions
            {
                Description = "Take no new jobs and finish the ones held (the jobs console shows it Drained). Resume to take jobs again.",
                IconName = "ArrowExit",
                ConfirmationMessage = $"Drain {name}? It finishes its jobs and takes no more until resumed.",
                UpdateState = WhenRunning,
            })
            .WithCommand("resume", "Resume", context => SendToWorkerAsync(name, "resume", gateway, adminKey, context.CancellationToken), new CommandOptions
            {
                Description = "Take jobs again after a drain.",
                IconName = "ArrowEnter",
                UpdateState = WhenRunning,
            });
    }

    public static IResourceBuilder<ProjectResource> WithRetryFailedCommand(
        this IResourceBuilder<ProjectResource> uploadApi, IResourceBuilder<ProjectResource> gateway, IResourceBuilder<ParameterResource> adminKey) =>
        uploadApi.WithCommand("retry-failed", "Retry all failed uploads", async context =>
        {
            using var response = await SendAsync(HttpMethod.Post, "/api/ops/uploads/retry-failed", gateway, adminKey, context.CancellationToken);
            var body = await response.Content.ReadAsStringAsync(context.CancellationToken);
            return response.IsSuccessStatusCode ? CommandResults.Success() : CommandResults.Failure(body);
        }, new CommandOptions
        {
            Description = "Every Failed upload whose original is intact goes back to Pending and is processed again.",
            IconName = "ArrowRepeatAll",
            ConfirmationMessage = "Retry every Failed upload?",
        });

    private static ResourceCommandState WhenRunning(UpdateCommandStateContext context) =>
        context.ResourceSnapshot.State?.Text == KnownResourceStates.Running ? ResourceCommandState.Enabled : ResourceCommandState.Disabled;

    /// <summary>Sends <paramref name="action"/> to the live worker process of the resource <paramref name="name"/>, through the console's API.</summary>
    private static async Task<ExecuteCommandResult> SendToWorkerAsync(
        string name, string action, IResourceBuilder<ProjectResource> gateway, IResourceBuilder<ParameterResource> adminKey, CancellationToken cancellationToken)
    {
        // The worker's heartbeats carry its resource name (OTEL_SERVICE_NAME); the newest live one is this process.
        using var workers = await SendAsync(HttpMethod.Get, "/api/ops/workers", gateway, adminKey, cancellationToken);
        if (!workers.IsSuccessStatusCode)
        {
            return CommandResults.Failure($"The operations API answered {(int)workers.StatusCode}.");
        }

        var live = (await workers.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).EnumerateArray()
            .Where(w => !w.GetProperty("lost").GetBoolean() && w.GetProperty("heartbeat").GetProperty("name").GetString() == name)
            .Select(w => w.GetProperty("heartbeat").GetProperty("workerId").GetString())
            .LastOrDefault();
        if (live is null)
        {
            return CommandResults.Failure($"{name} sends no heartbeat: it is not running, or cannot reach Redis.");
        }

        using var response = await SendAsync(HttpMethod.Post, $"/api/ops/workers/{Uri.EscapeDataString(live)}/{action}", gateway, adminKey, cancellationToken);
        return response.IsSuccessStatusCode
            ? CommandResults.Success()
            : CommandResults.Failure($"The {action} was refused: {await response.Content.ReadAsStringAsync(cancellationToken)}");
    }

    private static async Task<HttpResponseMessage> SendAsync(
        HttpMethod method, string path, IResourceBuilder<ProjectResource> gateway, IResourceBuilder<ParameterResource> adminKey, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(new Uri(gateway.GetEndpoint("http").Url), path));
        request.Headers.Add("X-Api-Key", await adminKey.Resource.GetValueAsync(cancellationToken));
        return await Http.SendAsync(request, cancellationToken);
    }
}
