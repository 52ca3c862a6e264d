// Unit tests run the engine on tfjs-core directly; register the gradients as the backend module does.
import '#tf-gradients';
