// Package all links every channel into the binary: adding a provider is a
// new folder plus one line here.
package all

import (
	_ "github.com/sipasvn/gateway/channels/kiosk"          // the desk kiosk
	_ "github.com/sipasvn/gateway/channels/sms/esms"       // sms.esms
	_ "github.com/sipasvn/gateway/channels/sms/generic"    // sms.generic
	_ "github.com/sipasvn/gateway/channels/sms/speedsms"   // sms.speedsms
	_ "github.com/sipasvn/gateway/channels/sms/twilio"     // sms.twilio
	_ "github.com/sipasvn/gateway/channels/voice/stringee" // voice.stringee
	_ "github.com/sipasvn/gateway/channels/voice/twilio"   // voice.twilio
	_ "github.com/sipasvn/gateway/channels/web"            // the survey page
	_ "github.com/sipasvn/gateway/channels/zalo"           // zalo.oa
)
