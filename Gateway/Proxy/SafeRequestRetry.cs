using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Reference.Gateway.Proxy;

/// <summary>
/// YARP has no retries; this one sends a request once more, to another destination, only when none of it can
/// have reached the first: a connection that could not be made (even a POST), or a body-less GET or HEAD whose
/// connection failed before any response byte reached the client. Everything else goes back as it happened.
/// </summary>
public sealed class SafeRequestRetry(RequestDelegate next, IOptions<GatewayOptions> options, ILogger<SafeRequestRetry> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var maxAttempts = options.Value.MaxAttemptsForSafeRequests;
        if (maxAttempts <= 1)
        {
            await next(context);
            return;
        }

        var safe = IsSafeWithoutBody(context.Request);

        var proxy = context.GetReverseProxyFeature();
        // Healthy destinations as the pipeline saw them; load balancing narrows the feature's list to one.
        var candidates = proxy.AvailableDestinations;
        var tried = new List<DestinationState>();

        for (var attempt = 1; ; attempt++)
        {
            await next(context);

            var error = context.Features.Get<IForwarderErrorFeature>();
            if (error?.Error != ForwarderError.Request || context.Response.HasStarted || attempt >= maxAttempts
                || proxy.ProxiedDestination is not { } failed
                || !(safe || NeverSent(error.Exception)))
            {
                return;
            }

            tried.Add(failed);
            var untried = candidates.Where(d => !tried.Contains(d)).ToList();
            if (untried.Count == 0)
            {
                return;
            }

            logger.LogInformation("Retrying {Method} {Path} after a transport failure on {Destination}",
                context.Request.Method, context.Request.Path, failed.DestinationId);
            // The forwarder refuses a response that looks already set (status 502 from the failure).
            context.Response.Clear();
            context.Features.Set<IForwarderErrorFeature>(null);
            proxy.AvailableDestinations = untried;
        }
    }

    // Failed while connecting: not a byte of the request (headers or body) left the gateway.
    private static bool NeverSent(Exception? error) =>
        error is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError };

    private static bool IsSafeWithoutBody(HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        && request.ContentLength is null or 0
        && !request.Headers.ContainsKey("Transfer-Encoding");
}
