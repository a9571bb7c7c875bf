using System.Net.Http.Json;
using System.Text.Json;

namespace Reference.AppHost.Operations;

/// <summary>
/// The operations console's actions where the F5 user already looks: "Drain" on each worker, "Retry all failed"
/// on UploadApi. Both call the console's API through the gateway with the admin key, as the page does, so the
/// dashboard and the page can never disagree on what an action means.
/// </summary>
public static class OperationsCommands
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public static IResourceBuilder<ProjectResource> WithDrainCommand(
        this IResourceBuilder<ProjectResource> worker, IResourceBuilder<ProjectResource> gateway, IResourceBuilder<ParameterResource> adminKey)
    {
        var name = worker.Resource.Name;
        return worker.WithCommand("drain", "Drain", async context =>
        {
            // The worker's heartbeats carry its resource name (OTEL_SERVICE_NAME); the newest live one is this process.
            using var workers = await SendAsync(HttpMethod.Get, "/api/ops/workers", gateway, adminKey, context.CancellationToken);
            if (!workers.IsSuccessStatusCode)
            {
                return CommandResults.Failure($"The operations API answered {(int)workers.StatusCode}.");
            }

            var live = (await workers.Content.ReadFromJsonAsync<JsonElement>(context.CancellationToken)).EnumerateArray()
                .Where(w => !w.GetProperty("lost").GetBoolean() && w.GetProperty("heartbeat").GetProperty("name").GetString() == name)
                .Select(w => w.GetProperty("heartbeat").GetProperty("workerId").GetString())
                .LastOrDefault();
            if (live is null)
            {
                return CommandResults.Failure($"{name} sends no heartbeat: it is not running, or cannot reach Redis.");
            }

            using var drained = await SendAsync(HttpMethod.Post, $"/api/ops/workers/{Uri.EscapeDataString(live)}/drain", gateway, adminKey, context.CancellationToken);
            return drained.IsSuccessStatusCode
                ? CommandResults.Success()
                : CommandResults.Failure($"The drain was refused: {await drained.Content.ReadAsStringAsync(context.CancellationToken)}");
        }, new CommandOptions
        {
            Description = "Take no new jobs and finish the ones held (the jobs console shows it Drained). Restart to take jobs again.",
            IconName = "ArrowExit",
            ConfirmationMessage = $"Drain {name}? It finishes its jobs and takes no more until restarted.",
            UpdateState = context => context.ResourceSnapshot.State?.Text == KnownResourceStates.Running
                ? ResourceCommandState.Enabled
                : ResourceCommandState.Disabled,
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

    private static async Task<HttpResponseMessage> SendAsync(
        HttpMethod method, string path, IResourceBuilder<ProjectResource> gateway, IResourceBuilder<ParameterResource> adminKey, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(new Uri(gateway.GetEndpoint("http").Url), path));
        request.Headers.Add("X-Api-Key", await adminKey.Resource.GetValueAsync(cancellationToken));
        return await Http.SendAsync(request, cancellationToken);
    }
}
