namespace Reference.Gateway.Proxy;

/// <summary>
/// Refuses a request whose declared Content-Length exceeds its route's <c>MaxRequestBodySize</c>
/// before a backend sees it. Bodies without a length (chunked) are cut by Kestrel while streaming,
/// and <see cref="ProxyErrorResponses"/> turns that into the same 413.
/// </summary>
public sealed class DeclaredBodySizeCheck(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var limit = context.GetReverseProxyFeature().Route.Config.MaxRequestBodySize;
        if (limit is > 0 && context.Request.ContentLength > limit)
        {
            return ProxyErrorResponses.WriteProblemAsync(context, StatusCodes.Status413PayloadTooLarge,
                "Request body too large", $"This route accepts at most {limit} bytes.");
        }

        return next(context);
    }
}
