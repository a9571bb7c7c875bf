using Microsoft.AspNetCore.Http.Timeouts;
using Yarp.ReverseProxy.Forwarder;

namespace Reference.Gateway.Proxy;

/// <summary>
/// The forwarder reports failures only as a bare status code; this writes them as ProblemDetails.
/// A backend's own responses (even its 5xx) pass through untouched.
/// </summary>
public sealed class ProxyErrorResponses(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);

        var error = context.Features.Get<IForwarderErrorFeature>()?.Error;
        if (error is null or ForwarderError.None || context.Response.HasStarted)
        {
            return;
        }

        // A route timeout cancels HttpContext.RequestAborted, which YARP 2.3 takes for a client that
        // went away and answers 400 (dotnet/yarp#2662). The timeout feature tells the two apart.
        var timedOut = context.Features.Get<IHttpRequestTimeoutFeature>()?.RequestTimeoutToken.IsCancellationRequested == true;
        var (status, title) = error switch
        {
            _ when timedOut => (StatusCodes.Status504GatewayTimeout, "The service did not answer in time"),
            ForwarderError.RequestTimedOut => (StatusCodes.Status504GatewayTimeout, "The service did not answer in time"),
            ForwarderError.NoAvailableDestinations => (StatusCodes.Status503ServiceUnavailable, "The service is unavailable"),
            ForwarderError.RequestBodyClient when context.Response.StatusCode == StatusCodes.Status413PayloadTooLarge
                => (StatusCodes.Status413PayloadTooLarge, "Request body too large"),
            ForwarderError.RequestBodyClient when context.Response.StatusCode == StatusCodes.Status408RequestTimeout
                => (StatusCodes.Status408RequestTimeout, "Request body too slow"),
            ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient => (0, ""),
            _ => (StatusCodes.Status502BadGateway, "The service could not be reached"),
        };

        if (status == 0)
        {
            return; // The client is gone; nobody reads a body.
        }

        context.Response.Clear();
        await WriteProblemAsync(context, status, title, detail: null);
    }

    public static Task WriteProblemAsync(HttpContext context, int status, string title, string? detail)
    {
        context.Response.StatusCode = status;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        }).AsTask();
    }
}
